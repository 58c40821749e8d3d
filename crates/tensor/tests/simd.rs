//! The SIMD path switch: names, what this CPU supports, and `GANTRY_SIMD` parsing (one test
//! function, since it sets the process's environment).

use gantry_tensor::simd::{self, Path};

#[test]
fn paths_names_and_the_environment_switch() {
    for path in Path::ALL {
        assert_eq!(Path::from_name(path.name()), Some(path));
    }
    assert_eq!(Path::from_name("AVX2"), None, "names are lower case");
    assert_eq!(
        [Path::Scalar, Path::Avx2, Path::Avx512].map(Path::name),
        ["scalar", "avx2", "avx512"]
    );

    let supported = simd::supported();
    assert_eq!(
        supported.first(),
        Some(&Path::Scalar),
        "scalar runs anywhere"
    );
    assert_eq!(supported.last(), Some(&simd::detected()));
    #[cfg(not(target_arch = "x86_64"))]
    assert_eq!(supported, vec![Path::Scalar]);

    std::env::remove_var("GANTRY_SIMD");
    assert_eq!(simd::requested(), Ok(None));
    std::env::set_var("GANTRY_SIMD", "scalar");
    assert_eq!(simd::requested(), Ok(Some(Path::Scalar)));
    std::env::set_var("GANTRY_SIMD", "sse9");
    let err = simd::requested().expect_err("an unknown path");
    assert!(
        err.contains("GANTRY_SIMD=sse9") && err.contains("avx2"),
        "{err}"
    );
    for path in Path::ALL {
        std::env::set_var("GANTRY_SIMD", path.name());
        match simd::requested() {
            Ok(Some(p)) => assert!(p == path && path.is_supported()),
            Err(e) => assert!(
                !path.is_supported() && e.contains("does not support"),
                "{e}"
            ),
            Ok(None) => panic!("GANTRY_SIMD={} read as unset", path.name()),
        }
    }
    std::env::remove_var("GANTRY_SIMD");
}
