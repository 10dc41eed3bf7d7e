//! `sqlx::migrate!` embeds migrations/ at compile time but cannot tell cargo about a file added
//! there; without this, a new migration is left out of the build until something else changes.
//!
//! The tests that need a PostgreSQL server are marked ignored, with the reason, when
//! `YONGXIN_TEST_POSTGRES_URL` is not set at build time, so `cargo test` reports them as not run
//! rather than as passed.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo:rerun-if-env-changed=YONGXIN_TEST_POSTGRES_URL");
    if std::env::var_os("YONGXIN_TEST_POSTGRES_URL").is_some() {
        println!("cargo:rustc-cfg=postgres_tests");
    }
}
