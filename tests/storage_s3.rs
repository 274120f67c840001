//! Storage against a real S3 API: a SeaweedFS server that
//! `tests/support/with-services.sh` starts on loopback for the length of a test run.
//!
//! The script exports the endpoint, the bucket and credentials. Without it
//! these tests fail rather than pass silently, since a storage change that was
//! never run against S3 must not look tested. Each test works under its own
//! key prefix, so tests may run in parallel and runs never see each other's
//! objects.

use std::time::{SystemTime, UNIX_EPOCH};

use shopsynth::storage::{Location, StoreOptions};

/// The test server's bucket and options: endpoint from the script,
/// credentials and region from the `AWS_*` variables it exports.
struct TestBucket {
    bucket: String,
    options: StoreOptions,
}

impl TestBucket {
    fn from_env() -> TestBucket {
        let var = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!(
                    "{name} is not set: these tests need an S3 server; run them through \
                     `make test` or `tests/support/with-services.sh cargo nextest run`"
                )
            })
        };
        let endpoint = var("SHOPSYNTH_TEST_S3_ENDPOINT");
        let bucket = var("SHOPSYNTH_TEST_S3_BUCKET");
        let options = StoreOptions { endpoint: Some(endpoint), ..StoreOptions::default() };
        TestBucket { bucket, options }
    }

    /// A fresh prefix for one test, unique across tests and runs.
    fn prefix(&self, test: &str) -> Location {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970");
        let uri = format!(
            "s3://{}/tests/{test}-{}-{}",
            self.bucket,
            std::process::id(),
            nanos.as_nanos()
        );
        Location::parse(&uri).expect("a valid s3 uri")
    }
}

/// Named so that test filters on `storage` pick these tests up too.
mod storage {
    use super::TestBucket;
    use bytes::Bytes;
    use shopsynth::storage::StoreOptions;

    #[tokio::test]
    async fn a_written_object_reads_back_and_exists() {
        let s3 = TestBucket::from_env();
        let location = s3.prefix("round-trip").join("data.csv");
        assert!(!location.exists(&s3.options).await.unwrap());

        let body = Bytes::from_static(b"user,item\n1,2\n");
        location.write(body.clone(), &s3.options).await.unwrap();

        assert_eq!(location.read(&s3.options).await.unwrap(), body);
        assert!(location.exists(&s3.options).await.unwrap());
    }

    #[tokio::test]
    async fn writing_again_replaces_the_object() {
        let s3 = TestBucket::from_env();
        let location = s3.prefix("overwrite").join("model.pt");
        location.write(Bytes::from_static(b"old and longer"), &s3.options).await.unwrap();
        location.write(Bytes::from_static(b"new"), &s3.options).await.unwrap();
        assert_eq!(location.read(&s3.options).await.unwrap(), Bytes::from_static(b"new"));
    }

    #[tokio::test]
    async fn reading_a_missing_key_names_the_uri() {
        let s3 = TestBucket::from_env();
        let location = s3.prefix("missing").join("nothing.parquet");
        let err = location.read(&s3.options).await.unwrap_err().to_string();
        assert!(err.contains(&location.to_string()), "{err}");
        assert!(err.starts_with("not found: "), "{err}");
    }

    #[tokio::test]
    async fn a_prefix_lists_its_direct_children_and_delete_removes_objects() {
        let s3 = TestBucket::from_env();
        let root = s3.prefix("listing");
        for name in ["b.csv", "a/report.json", "a/deep/x"] {
            root.join(name).write(Bytes::from_static(b"x"), &s3.options).await.unwrap();
        }
        assert_eq!(root.list_names(&s3.options).await.unwrap(), ["a", "b.csv"]);

        root.join("b.csv").delete(&s3.options).await.unwrap();
        root.join("b.csv").delete(&s3.options).await.unwrap();
        assert_eq!(root.list_names(&s3.options).await.unwrap(), ["a"]);
        assert!(root.join("none").list_names(&s3.options).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn credentials_in_the_options_win_over_the_environment() {
        let s3 = TestBucket::from_env();
        let wrong = StoreOptions {
            access_key_id: Some("shopsynth-nobody".into()),
            secret_access_key: Some("not-the-secret".into()),
            ..s3.options.clone()
        };
        let location = s3.prefix("credentials").join("data.csv");
        let refused = location.write(Bytes::from_static(b"x"), &wrong).await;
        assert!(refused.is_err(), "the server accepted unknown credentials");
        assert!(!location.exists(&s3.options).await.unwrap());
    }
}

/// A whole job reading its dataset from S3 and writing its run folder there;
/// named so that filters on `storage` pick it up too.
mod storage_job {
    use super::TestBucket;
    use bytes::Bytes;
    use std::process::Command;

    #[tokio::test]
    async fn a_job_reads_from_and_writes_to_s3() {
        let s3 = TestBucket::from_env();
        let root = s3.prefix("job");
        let real =
            std::fs::read("../shared/datasets/uci-online-retail/online_retail_random_sample.csv")
                .expect("the shared datasets are beside the repo");
        root.join("in/retail.csv").write(Bytes::from(real), &s3.options).await.unwrap();

        let endpoint = s3.options.endpoint.clone().unwrap();
        let spec = format!(
            "dataset:\n  uri: {root}/in/retail.csv\n  storage: {{endpoint: \"{endpoint}\"}}\n\
             model: {{kind: vae, epochs: 1, batch_size: 200}}\n\
             output: {{uri: \"{root}/runs/\", rows: 100, formats: [csv, parquet]}}\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let spec_path = dir.path().join("job.yaml");
        std::fs::write(&spec_path, spec).unwrap();

        // The output side takes its endpoint from the environment.
        let output = Command::new(env!("CARGO_BIN_EXE_shopsynth"))
            .args(["run", spec_path.to_str().unwrap(), "--run-id", "s3run"])
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("OMP_NUM_THREADS", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");

        let run = root.join("runs/s3run");
        let names = run.list_names(&s3.options).await.unwrap();
        for expected in ["data.csv", "data.parquet", "manifest.json", "model", "report.json"] {
            assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
        }
        let data = run.join("data.csv").read(&s3.options).await.unwrap();
        assert_eq!(data.iter().filter(|&&b| b == b'\n').count(), 101, "header and 100 rows");
    }
}
