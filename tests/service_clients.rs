//! The service as its clients see it: a Python SDK generated from the
//! committed OpenAPI document drives a job, and schemathesis fuzzes the
//! live server against that document.
//!
//! Both tools come from the tools virtualenv that `make test` installs
//! (`SHOPSYNTH_TOOLS_PYTHON` names its Python); without it these tests fail
//! rather than pass unchecked.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::service::{KEY, Service};
use serde_json::Value;

fn tool(name: &str) -> PathBuf {
    let python = common::service::env("SHOPSYNTH_TOOLS_PYTHON");
    let tool = Path::new(&python).with_file_name(name);
    assert!(tool.is_file(), "{} is missing; `make tools` installs it", tool.display());
    tool
}

#[test]
fn a_generated_python_client_drives_a_job_to_its_outputs() {
    let mut service = Service::start("python-client", &[]);
    service.dataset(common::TAOBAO, 2000, "taobao.csv");
    service.start_worker();

    let generated = tempfile::tempdir().unwrap();
    let package = generated.path().join("shopsynth_client");
    let generate = Command::new(tool("openapi-python-client"))
        .args(["generate", "--path", "openapi/shopsynth.json", "--meta", "none", "--output-path"])
        .arg(&package)
        .output()
        .expect("openapi-python-client runs");
    assert!(generate.status.success(), "{}", String::from_utf8_lossy(&generate.stderr));
    let output = String::from_utf8_lossy(&generate.stdout).to_string();
    assert!(!output.contains("Unable to process schema"), "schemas left out:\n{output}");

    let run = Command::new(common::service::env("SHOPSYNTH_TOOLS_PYTHON"))
        .arg("tests/support/client_drives_a_job.py")
        .arg(&package)
        .arg(&service.url)
        .arg(KEY)
        .output()
        .expect("python runs");
    assert!(
        run.status.success(),
        "{}\nworker:\n{}",
        String::from_utf8_lossy(&run.stderr),
        service.all_worker_logs()
    );
    let seen: Value = serde_json::from_slice(&run.stdout).expect("the script prints JSON");
    assert_eq!(seen["quality"], seen["report_overall"], "{seen}");
    assert_eq!(seen["sample_rows"], 25);
    for file in
        seen["files"].as_array().unwrap().iter().chain(seen["sample_files"].as_array().unwrap())
    {
        let path = Path::new(file.as_str().unwrap());
        assert!(path.starts_with(service.root.path()) && path.is_file(), "{}", path.display());
    }
    let names: Vec<&str> = seen["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert!(names.contains(&"data.parquet") && names.contains(&"manifest.json"), "{names:?}");
}

#[test]
fn schemathesis_finds_no_server_error_and_no_undocumented_status() {
    let service = Service::start("schemathesis", &[]);
    service.dataset(common::TAOBAO, 300, "taobao.csv");
    let report = tempfile::tempdir().unwrap();
    let run = Command::new(tool("schemathesis"))
        .args(["run", &format!("{}/openapi.json", service.url)])
        .args(["--header", &format!("Authorization: Bearer {KEY}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_schema_conformance,response_headers_conformance",
        ])
        .args(["--max-examples", "60", "--seed", "7", "--workers", "1"])
        .args(["--report", "junit", "--report-dir"])
        .arg(report.path())
        .env("SCHEMATHESIS_HOOKS", "")
        .env("NO_COLOR", "1")
        // Its example cache (`.schemathesis/`) goes there, not into the checkout.
        .current_dir(report.path())
        .output()
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}\napi log:\n{}",
        String::from_utf8_lossy(&run.stderr),
        service.api_log()
    );
    assert!(stdout.contains("passed"), "{stdout}");
    assert!(!service.api_log().contains("panicked"), "{}", service.api_log());
}
