//! Makes every binary of the crate find libtorch on its own and use CUDA when
//! a GPU is present.
//!
//! torch-sys links against the libtorch named by `LIBTORCH` (the Makefile
//! points it at the PyTorch wheel in the cached virtualenv). Two things are
//! left to the final link, which a dependency's build script cannot reach:
//!
//! - an rpath to that library folder, so binaries run without
//!   `LD_LIBRARY_PATH`;
//! - `libtorch_cuda` linked with `--no-as-needed`. No symbol of it is used
//!   directly, so the default `--as-needed` drops it from the binary's NEEDED
//!   entries and CUDA then silently reports itself unavailable.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-changed=build.rs");

    let Some(libtorch) = env::var_os("LIBTORCH") else {
        // torch-sys fails with its own message naming LIBTORCH.
        return;
    };
    let torch = PathBuf::from(libtorch);
    if let Some(version) = torch_version(&torch) {
        println!("cargo:rustc-env=SHOPSYNTH_TORCH_VERSION={version}");
    }
    let lib = torch.join("lib");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());

    if lib.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-L{}", lib.display());
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}

/// The version the PyTorch wheel records, such as `2.11.0+cu130`.
fn torch_version(torch: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(torch.join("version.py")).ok()?;
    let line = text.lines().find(|l| l.starts_with("__version__"))?;
    Some(line.split(['\'', '"']).nth(1)?.to_string())
}
