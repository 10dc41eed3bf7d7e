#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| yongxin_domain::fuzzing::categories(data));
