//! The OpenAPI document, byte for byte: moving handlers between modules must not change what
//! outside clients read. After an intended change, run with `UPDATE_GOLDEN=1` and review the diff.

#[test]
fn the_openapi_document_is_unchanged() {
    let got = serde_json::to_string(&yongxin_web::openapi::openapi_document()).expect("json");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/openapi.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &got).expect("write the golden file");
        return;
    }
    let want =
        std::fs::read_to_string(path).expect("the golden file: run once with UPDATE_GOLDEN=1");
    if got != want {
        std::fs::write(format!("{path}.new"), &got).expect("write .new");
        panic!(
            "the OpenAPI document changed; compare tests/golden/openapi.json with openapi.json.new"
        );
    }
}
