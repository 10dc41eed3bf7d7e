#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| yongxin_web::fuzzing::picker_form(data));
