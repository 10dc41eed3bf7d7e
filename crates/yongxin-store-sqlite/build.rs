//! `sqlx::migrate!` embeds migrations/ at compile time but cannot tell cargo about a file added
//! there; without this, a new migration is left out of the build until something else changes.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
