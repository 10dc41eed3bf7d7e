#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| yongxin_web::fuzzing::roster_csv(data));
