//! The Helm chart in helm/shopsynth lints, renders and validates against
//! Kubernetes' schemas for the default, GPU and CPU values, and keeps its
//! promises (probes, security context, GPU requests, secrets referenced);
//! see tests/support/check_chart.py. Needs the tools virtualenv that
//! `make test` installs.

use std::process::Command;

#[test]
fn the_chart_renders_valid_manifests_for_default_gpu_and_cpu_values() {
    let python = std::env::var("SHOPSYNTH_TOOLS_PYTHON").unwrap_or_else(|_| {
        panic!("SHOPSYNTH_TOOLS_PYTHON is not set: run the chart check through `make test`")
    });
    let run = Command::new(python)
        .arg("tests/support/check_chart.py")
        .output()
        .expect("the tools Python runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    for values in ["defaults", "values-gpu.yaml", "values-cpu.yaml"] {
        assert!(stdout.contains(&format!("ok   {values}:")), "{values} not checked:\n{stdout}");
    }
}
