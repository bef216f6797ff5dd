//! `anmin render`: a shape decoder's predicted field on the pixel grid, as a PNG, beside the
//! true field when one is given.

use std::path::Path;

use nalgebra::DMatrix;

use crate::cli::RenderArgs;
use crate::data::{InputColumn, Source, Table};
use crate::error::{DataError, Error, Result};
use crate::images::colormap::{DivergingScale, diverging_with_contour};
use crate::images::measures::{inside_iou, mean_squared_difference};
use crate::images::raster::{RgbImage, figure_png};
use crate::images::{Image, center_x, center_y, pixel_at};
use crate::model::SavedModel;
use crate::outputs;
use crate::predict::predict_in_blocks;

/// `anmin render`.
pub fn run(args: &RenderArgs) -> Result<()> {
    let model = SavedModel::load(&args.model)?;
    let x_column = coordinate_layout(&model, &args.model)?;
    let predicted = predict_field(&model, x_column, args.size)?;
    let truth = match &args.truth {
        Some(path) => Some(read_truth(&model, x_column, path, args.size)?),
        None => None,
    };
    // One scale for both panels, so that equal colors mean equal values.
    let fields: Vec<&Image> = [Some(&predicted), truth.as_ref()]
        .into_iter()
        .flatten()
        .collect();
    let scale = DivergingScale::covering(&fields);
    let panels: Vec<RgbImage> = fields
        .iter()
        .map(|field| diverging_with_contour(field, scale))
        .collect();
    outputs::write_atomic(&args.out, &figure_png(&panels))?;

    let (min, max) = predicted
        .values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let (size, blue, red) = (args.size, -scale.negative, scale.positive);
    let mut summary = format!(
        "predicted field on {size}x{size} pixels: min {min:.6}, max {max:.6}\n\
         colors: full blue at {blue:.6} (inside), white at 0, full red at {red:.6} (outside); \
         black: the zero level\n"
    );
    if let Some(truth) = &truth {
        let mse = mean_squared_difference(truth, &predicted);
        let iou =
            inside_iou(truth, &predicted).map_or_else(|| "undefined".into(), |v| format!("{v:.4}"));
        summary.push_str(&format!(
            "against the truth (right panel): MSE {mse:.6}, inside IoU {iou}\n"
        ));
    }
    print!("{summary}");
    Ok(())
}

/// Checks that the model maps two numeric inputs to one output, and returns which of its two
/// input columns is x: the one named "x" when the columns are named x and y, else the first.
fn coordinate_layout(model: &SavedModel, path: &Path) -> Result<usize> {
    let err = |message: String| Error::Model {
        path: path.display().to_string(),
        message,
    };
    let targets = &model.encoding.targets;
    if targets.len() != 1 {
        return Err(err(format!(
            "render needs a model with one output (the signed distance); this one has {}: {}",
            targets.len(),
            targets.join(", ")
        )));
    }
    let inputs = &model.encoding.inputs;
    let numeric = inputs
        .iter()
        .all(|input| matches!(input, InputColumn::Numeric { .. }));
    if inputs.len() != 2 || !numeric {
        let described: Vec<String> = inputs
            .iter()
            .map(|input| match input {
                InputColumn::Numeric { name } => format!("{name:?}"),
                InputColumn::Categorical { name, .. } | InputColumn::Frequency { name, .. } => {
                    format!("{name:?} (categorical)")
                }
            })
            .collect();
        return Err(err(format!(
            "render needs a model whose inputs are two numeric columns (x, y as written by \
             `anmin gen sdf`); this one has {}: {}",
            inputs.len(),
            described.join(", ")
        )));
    }
    Ok(usize::from(
        inputs[0].name() == "y" && inputs[1].name() == "x",
    ))
}

/// The model's output at every pixel center of a `size` × `size` grid.
fn predict_field(model: &SavedModel, x_column: usize, size: usize) -> Result<Image> {
    let mut values = Vec::with_capacity(size * size);
    predict_in_blocks(
        model,
        size * size,
        "the render grid",
        |pixels| {
            let first = pixels.start;
            DMatrix::from_fn(pixels.len(), 2, |i, j| {
                let pixel = first + i;
                if j == x_column {
                    center_x(pixel % size, size)
                } else {
                    center_y(pixel / size, size)
                }
            })
        },
        |_, outputs| values.extend(outputs.column(0).iter()),
    )?;
    Ok(Image {
        width: size,
        height: size,
        values,
    })
}

/// The true field from a CSV with the model's input columns and its target, one row per pixel
/// center of the `size` grid, in any order.
fn read_truth(model: &SavedModel, x_column: usize, path: &Path, size: usize) -> Result<Image> {
    let table = Table::read_keeping_text(
        &Source::File(path.to_path_buf()),
        None,
        &model.encoding.text_columns(),
    )?;
    let not_a_grid = |message: String| DataError::NotAGrid {
        path: table.source.clone(),
        message,
    };
    // A missing coordinate is NaN, which is no pixel center.
    let (coordinates, _) = model.encoding.encode_inputs(&table)?;
    let values = model.encoding.try_encode_targets(&table).ok_or_else(|| {
        not_a_grid(format!(
            "needs a numeric column {:?} (the model's output) on every row",
            model.encoding.targets[0]
        ))
    })?;
    if table.n_rows() != size * size {
        return Err(not_a_grid(format!(
            "has {} rows, but a --size {size} grid has {} pixels (was it made with \
             `anmin gen sdf --size {size}`?)",
            table.n_rows(),
            size * size
        ))
        .into());
    }
    let mut field = vec![None; size * size];
    for row in 0..table.n_rows() {
        let (x, y) = (
            coordinates[(row, x_column)],
            coordinates[(row, 1 - x_column)],
        );
        let line = table.lines[row];
        let (r, c) = pixel_at(x, y, size).ok_or_else(|| {
            not_a_grid(format!(
                "line {line}: ({x}, {y}) is not a pixel center of a {size}x{size} grid"
            ))
        })?;
        if field[r * size + c].replace(values[(row, 0)]).is_some() {
            return Err(not_a_grid(format!("line {line}: pixel ({x}, {y}) appears twice")).into());
        }
    }
    Ok(Image {
        width: size,
        height: size,
        // n rows, none repeated: every pixel is set.
        values: field
            .into_iter()
            .map(|v| v.expect("every pixel set"))
            .collect(),
    })
}
