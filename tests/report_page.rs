//! report.html in a real browser: a headless Chromium with every network
//! request refused opens the page of a finished run, and each column of the
//! real table must have its plot drawn, real and synthetic in their colours.
//! The Myntra catalogue is used because it has every kind of column that
//! needs care on the page: free text (real only), a row id, labels with a
//! long tail, and numbers.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// The colours the page draws real and synthetic series in: real bars are
/// its blue at 55% over white, synthetic lines and bars solid orange.
const REAL_FILL: [u8; 3] = [132, 180, 214];
const SYNTHETIC: [u8; 3] = [230, 115, 0];
/// Anti-aliasing and colour management move a channel by a few levels.
const TOLERANCE: u8 = 4;

const MYNTRA_COLUMNS: [&str; 8] = [
    "ProductID",
    "ProductName",
    "ProductBrand",
    "Gender",
    "Price (INR)",
    "NumImages",
    "Description",
    "PrimaryColor",
];

#[test]
fn the_report_page_draws_a_plot_per_column_in_an_offline_headless_browser() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let model = "  kind: gan\n  epochs: 1\n  seed: 3\n";
    let spec = write(dir.path(), "myntra.yaml", spec(Path::new(MYNTRA), &out, 2000, "", model));
    let output = shopsynth(&["run", spec.to_str().unwrap(), "--run-id", "page"]);
    assert!(output.status.success(), "run failed: {}", stderr(&output));
    let page = out.join("page/report.html");

    let dom = chromium(dir.path(), &["--dump-dom", &url(&page)]);
    let dom = String::from_utf8(dom.stdout).expect("the DOM is text");
    let figures: Vec<&str> = dom.split("<figure").skip(1).collect();
    for column in MYNTRA_COLUMNS {
        let caption = format!("<b>{column}</b>");
        let figure = figures.iter().find(|f| f.contains(&caption));
        let figure = figure.unwrap_or_else(|| panic!("no figure is captioned {column}"));
        assert!(figure.contains("<svg"), "the figure for {column} holds no plot");
    }

    let shot = dir.path().join("page.png");
    let screenshot = format!("--screenshot={}", shot.display());
    chromium(dir.path(), &[&screenshot, "--window-size=1280,5000", &url(&page)]);
    let (real, synthetic) = colour_pixels(&shot);
    assert!(real > 2000, "real series are drawn: {real} pixels of their colour");
    assert!(synthetic > 2000, "synthetic series are drawn: {synthetic} pixels of their colour");
}

fn url(path: &Path) -> String {
    format!("file://{}", path.canonicalize().unwrap().display())
}

/// Runs headless Chromium with a private profile and a proxy that refuses
/// every connection, so any attempt to reach the network fails.
fn chromium(dir: &Path, args: &[&str]) -> std::process::Output {
    let profile = format!("--user-data-dir={}", dir.join("chromium-profile").display());
    let output = Command::new("timeout")
        .args(["120", "chromium", "--headless", "--no-sandbox", "--disable-gpu"])
        .args(["--no-first-run", "--disable-background-networking", &profile])
        .args(["--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>"])
        .args(args)
        .output()
        .expect("chromium is installed (make test installs Debian's chromium)");
    assert!(output.status.success(), "chromium failed: {}", stderr(&output));
    output
}

/// Pixels of the real and of the synthetic colour in a PNG screenshot.
fn colour_pixels(path: &Path) -> (usize, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().expect("chromium writes a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a sane size")];
    let info = reader.next_frame(&mut pixels).expect("the PNG decodes");
    let channels = info.color_type.samples();
    let rgb = pixels[..info.buffer_size()].chunks(channels).map(|p| [p[0], p[1], p[2]]);
    let near = |pixel: [u8; 3], colour: [u8; 3]| {
        pixel.iter().zip(colour).all(|(p, c)| p.abs_diff(c) <= TOLERANCE)
    };
    rgb.fold((0, 0), |(real, synthetic), pixel| {
        (
            real + usize::from(near(pixel, REAL_FILL)),
            synthetic + usize::from(near(pixel, SYNTHETIC)),
        )
    })
}
