//! End-to-end tests of the image experiments: `gen sdf|dae`, training on their CSV (with
//! `--target-prefix`), `render` and `denoise`, and their errors.

use std::path::{Path, PathBuf};

mod common;

use common::{anmin, expect_error, stdout_of};

/// Runs `anmin args…` expecting success, and returns its stdout.
fn run_ok(args: &[&str]) -> String {
    stdout_of(anmin().args(args))
}

/// Runs `anmin args…` expecting exit code 2 (bad input) with `message` on stderr.
fn expect_usage_error(args: &[&str], message: &str) {
    expect_error(anmin().args(args), 2, message);
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

/// (width, height) of a PNG file, checking that it is 8-bit RGB.
fn png_size(path: &Path) -> (u32, u32) {
    let file = std::io::BufReader::new(std::fs::File::open(path).expect("PNG written"));
    let reader = png::Decoder::new(file).read_info().expect("a PNG");
    let info = reader.info();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    (info.width, info.height)
}

/// Generates a 16-pixel star SDF and trains a small ANMIN model on it; returns (csv, model).
fn star_model(dir: &Path) -> (PathBuf, PathBuf) {
    let csv = dir.join("sdf.csv");
    let model = dir.join("sdf-model.json");
    run_ok(&["gen", "sdf", "--size", "16", "--out", path_str(&csv)]);
    run_ok(&[
        "train",
        "--data",
        path_str(&csv),
        "--test-frac",
        "0",
        "--hidden",
        "8",
        "--iters",
        "5",
        "-q",
        "--save-model",
        path_str(&model),
    ]);
    (csv, model)
}

#[test]
fn gen_sdf_writes_one_row_per_pixel_negative_inside() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("disk.csv");
    run_ok(&[
        "gen",
        "sdf",
        "--shape",
        "disk",
        "--size",
        "32",
        "--out",
        path_str(&csv),
    ]);
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("x,y,sdf"));
    let rows: Vec<[f64; 3]> = lines
        .map(|line| {
            let v: Vec<f64> = line.split(',').map(|f| f.parse().unwrap()).collect();
            [v[0], v[1], v[2]]
        })
        .collect();
    assert_eq!(rows.len(), 32 * 32);
    assert_eq!(
        rows[0][..2],
        [-31.0 / 32.0, 31.0 / 32.0],
        "top-left pixel center first"
    );
    for [x, y, sdf] in rows {
        // The disk has radius 0.6; the field approximates r − 0.6 to about a pixel (1/16).
        let r = (x * x + y * y).sqrt();
        assert!((sdf - (r - 0.6)).abs() < 1.0 / 16.0, "({x}, {y}): {sdf}");
        if (r - 0.6).abs() > 1.0 / 16.0 {
            assert_eq!(sdf < 0.0, r < 0.6, "({x}, {y}): {sdf}");
        }
    }
}

#[test]
fn render_draws_prediction_beside_truth() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, model) = star_model(dir.path());
    let png = dir.path().join("sdf.png");
    let stdout = run_ok(&[
        "render",
        "--model",
        path_str(&model),
        "--size",
        "16",
        "--truth",
        path_str(&csv),
        "--out",
        path_str(&png),
    ]);
    assert!(
        stdout.contains("against the truth (right panel): MSE"),
        "{stdout}"
    );
    // Two 16-pixel panels magnified 16 times (to 256 screen pixels), 8 pixels apart.
    assert_eq!(png_size(&png), (2 * 256 + 8, 256));
    run_ok(&[
        "render",
        "--model",
        path_str(&model),
        "--size",
        "20",
        "--out",
        path_str(&png),
    ]);
    assert_eq!(png_size(&png), (260, 260));
}

#[test]
fn render_rejects_models_that_are_not_shape_decoders() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, sdf_model) = star_model(dir.path());
    let png = dir.path().join("out.png");
    // A model of the wrong shape: trained on `columns` with `extra` flags.
    let expect_rejected = |columns: &str, extra: &[&str], message: &str| {
        let data = dir.path().join("other.csv");
        let rows = "1,2,3,4\n2,3,1,5\n3,1,2,6\n4,4,4,2\n5,1,1,1\n";
        std::fs::write(&data, format!("{columns}\n{rows}")).unwrap();
        let model = dir.path().join("other.json");
        let train = [
            "train",
            "--data",
            path_str(&data),
            "--hidden",
            "2",
            "--iters",
            "1",
        ];
        let save = ["--test-frac", "0", "-q", "--save-model", path_str(&model)];
        run_ok(&[&train[..], extra, &save].concat());
        let render = [
            "render",
            "--model",
            path_str(&model),
            "--out",
            path_str(&png),
        ];
        expect_usage_error(&render, message);
    };
    expect_rejected(
        "a,b,c,y",
        &[],
        "render needs a model whose inputs are two numeric columns",
    );
    expect_rejected(
        "x,y,s,t",
        &["--target", "s,t"],
        "render needs a model with one output",
    );
    // A truth of another size, and one that is not a grid.
    expect_usage_error(
        &[
            "render",
            "--model",
            path_str(&sdf_model),
            "--size",
            "17",
            "--truth",
            path_str(&csv),
            "--out",
            path_str(&png),
        ],
        "has 256 rows, but a --size 17 grid has 289 pixels",
    );
    let text = std::fs::read_to_string(&csv)
        .unwrap()
        .replacen("-0.9375,", "-0.93,", 1);
    let shifted = dir.path().join("shifted.csv");
    std::fs::write(&shifted, text).unwrap();
    expect_usage_error(
        &[
            "render",
            "--model",
            path_str(&sdf_model),
            "--size",
            "16",
            "--truth",
            path_str(&shifted),
            "--out",
            path_str(&png),
        ],
        "line 2: (-0.93, 0.9375) is not a pixel center of a 16x16 grid",
    );
    expect_usage_error(
        &[
            "render",
            "--model",
            path_str(&sdf_model),
            "--size",
            "4",
            "--out",
            path_str(&png),
        ],
        "from 8 to 4096",
    );
    assert!(!png.exists(), "no output after an error");
}

#[test]
fn anmin_autoencoder_improves_psnr_on_a_new_noise_draw() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("dae.csv");
    let model = dir.path().join("dae-model.json");
    let png = dir.path().join("denoised.png");
    let picture = ["--size", "32", "--noise", "0.1"];
    let out = ["--out", path_str(&csv)];
    run_ok(&[&["gen", "dae", "--patch", "4"][..], &picture, &out].concat());
    let header = std::fs::read_to_string(&csv).unwrap();
    let header = header.lines().next().unwrap();
    assert!(header.starts_with("noisy_0,noisy_1,") && header.ends_with(",clean_14,clean_15"));
    let summary = run_ok(&[
        "train",
        "--data",
        path_str(&csv),
        "--target-prefix",
        "clean_",
        "--test-frac",
        "0",
        "--hidden",
        "32",
        "--iters",
        "10",
        "-q",
        "--save-model",
        path_str(&model),
    ]);
    assert!(
        summary.contains("16 features, 16 targets: clean_0 … clean_15"),
        "{summary}"
    );
    // Seed 1: a noise draw the model was not trained on.
    let stdout = run_ok(
        &[
            &[
                "denoise",
                "--model",
                path_str(&model),
                "--seed",
                "1",
                "--out",
                path_str(&png),
            ][..],
            &picture,
        ]
        .concat(),
    );
    let psnr = |label: &str| -> f64 {
        let line = stdout.lines().find(|l| l.starts_with(label)).expect(label);
        line[label.len()..]
            .trim()
            .trim_end_matches(" dB")
            .parse()
            .unwrap()
    };
    let (noisy, denoised) = (
        psnr("PSNR noisy vs clean:"),
        psnr("PSNR denoised vs clean:"),
    );
    assert!(
        (noisy - 20.0).abs() < 0.5,
        "noise 0.1 is about 20 dB: {noisy}"
    );
    assert!(denoised > noisy + 3.0, "{stdout}");
    // Three panels of 32 pixels magnified 8 times, 8 pixels apart.
    assert_eq!(png_size(&png), (3 * 256 + 2 * 8, 256));
    // The model knows its patch size; another one is an error.
    expect_usage_error(
        &[
            "denoise",
            "--model",
            path_str(&model),
            "--patch",
            "8",
            "--out",
            path_str(&png),
        ],
        "inputs for --patch 8: expected 64 columns noisy_0 … noisy_63, found 16",
    );
}

#[test]
fn denoise_and_gen_dae_reject_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let (_, sdf_model) = star_model(dir.path());
    let png = dir.path().join("out.png");
    expect_usage_error(
        &[
            "denoise",
            "--model",
            path_str(&sdf_model),
            "--out",
            path_str(&png),
        ],
        "2 inputs are not the pixels of a square patch",
    );
    expect_usage_error(
        &[
            "denoise",
            "--model",
            path_str(&sdf_model),
            "--patch",
            "1",
            "--out",
            path_str(&png),
        ],
        "denoise needs a model trained on `anmin gen dae` data",
    );
    let csv = dir.path().join("dae.csv");
    expect_usage_error(
        &[
            "gen",
            "dae",
            "--size",
            "8",
            "--patch",
            "9",
            "--out",
            path_str(&csv),
        ],
        "--patch 9 is larger than the picture (--size 8)",
    );
    expect_usage_error(
        &[
            "gen",
            "dae",
            "--size",
            "4096",
            "--patch",
            "16",
            "--out",
            path_str(&csv),
        ],
        "would write 16654561 rows of 512 values",
    );
    expect_usage_error(
        &["gen", "dae", "--noise=-1", "--out", path_str(&csv)],
        "must not be negative",
    );
    assert!(!csv.exists() && !png.exists());
}

#[test]
fn target_prefix_chooses_targets_and_excludes_target() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("multi.csv");
    let mut text = String::from("in_a,out_1,in_b,out_2\n");
    for i in 0..30 {
        let (a, b) = ((i as f64 * 0.3).sin(), (i as f64 * 0.7).cos());
        text.push_str(&format!("{a},{},{b},{}\n", a + b, a - b));
    }
    std::fs::write(&data, text).unwrap();
    let run = dir.path().join("run.json");
    run_ok(&[
        "train",
        "--data",
        path_str(&data),
        "--target-prefix",
        "out_",
        "--hidden",
        "4",
        "--iters",
        "2",
        "-q",
        "--out",
        path_str(&run),
    ]);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&run).unwrap()).unwrap();
    assert_eq!(
        report["dataset"]["targets"],
        serde_json::json!(["out_1", "out_2"])
    );
    assert_eq!(
        report["dataset"]["features"],
        serde_json::json!(["in_a", "in_b"])
    );
    assert_eq!(report["config"]["target_prefix"], "out_");
    expect_usage_error(
        &[
            "train",
            "--data",
            path_str(&data),
            "--target-prefix",
            "out_",
            "--target",
            "in_a",
        ],
        "cannot be used with",
    );
    expect_usage_error(
        &["train", "--data", path_str(&data), "--target-prefix", "y_"],
        "no column name starts with \"y_\" (--target-prefix)",
    );
    expect_usage_error(
        &["train", "--data", path_str(&data), "--target-prefix", ""],
        "must not be empty",
    );
}
