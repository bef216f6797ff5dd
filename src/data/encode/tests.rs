use super::*;
use crate::error::CellLocation;

fn dataset(text: &str, choice: &ColumnChoice) -> Result<Dataset, DataError> {
    let table = Table::parse("t.csv", text.as_bytes(), None)?;
    Dataset::from_table(&table, choice)
}

#[test]
fn one_hot_with_sorted_categories() {
    let d = dataset(
        "sex,len,y\nM,1.5,3\nF,2,4\nI,2.5,5\nM,3,6\n",
        &ColumnChoice::default(),
    )
    .unwrap();
    assert_eq!(
        d.encoding.feature_names(),
        ["sex=F", "sex=I", "sex=M", "len"]
    );
    assert_eq!(d.encoding.targets, ["y"]);
    assert_eq!(
        d.x.row(0).iter().copied().collect::<Vec<_>>(),
        [0., 0., 1., 1.5]
    );
    assert_eq!(
        d.x.row(1).iter().copied().collect::<Vec<_>>(),
        [1., 0., 0., 2.]
    );
    assert_eq!(
        d.y.column(0).iter().copied().collect::<Vec<_>>(),
        [3., 4., 5., 6.]
    );
}

#[test]
fn missing_values_are_nan_or_a_category_or_dropped() {
    let text = "a,b,c,y\n1,2,u,3\n4,NA,,6\n7,8,u,inf\n9,1,v,2\n";
    let d = dataset(text, &ColumnChoice::default()).unwrap();
    // The row with a missing target is dropped, with a note naming it.
    assert_eq!(d.n_rows(), 3);
    assert_eq!(d.dropped_rows, 1);
    assert_eq!(d.notes.len(), 1);
    assert_eq!(d.notes[0].kind, NoteKind::MissingTarget);
    assert_eq!((d.notes[0].line, d.notes[0].column), (4, 4));
    // A missing number is NaN; a missing category is a category of its own.
    assert_eq!(
        d.encoding.feature_names(),
        ["a", "b", "c=u", "c=v", "c=(missing)"]
    );
    assert!(d.x[(1, 1)].is_nan());
    assert_eq!(
        d.x.row(1).columns(2, 3).iter().copied().collect::<Vec<_>>(),
        [0., 0., 1.]
    );
    assert_eq!(
        d.encoding.feature_kinds(),
        [
            FeatureKind::Numeric,
            FeatureKind::Numeric,
            FeatureKind::OneHot,
            FeatureKind::OneHot,
            FeatureKind::OneHot
        ]
    );
    let choice = ColumnChoice {
        drop_missing: true,
        ..Default::default()
    };
    let d = dataset(text, &choice).unwrap();
    assert_eq!(d.n_rows(), 2);
    assert_eq!(d.dropped_rows, 2);
    assert!(d.notes.is_empty());
    assert_eq!(d.encoding.feature_names(), ["a", "b", "c=u", "c=v"]);
    // A missing value in a column that is not used does not count.
    let choice = ColumnChoice {
        drop: vec!["b".into()],
        drop_missing: true,
        ..Default::default()
    };
    assert!(matches!(
        dataset("a,b,y\n1,?,3\n4,null,6\n", &choice),
        Ok(d) if d.n_rows() == 2
    ));
    // Every target missing: nothing to train on.
    assert!(matches!(
        dataset("a,y\n1,\n2,NA\n", &ColumnChoice::default()),
        Err(DataError::TooFewRows { .. })
    ));
}

#[test]
fn a_few_text_cells_in_a_numeric_column_are_missing_values() {
    let mut text = String::from("a,y\n");
    for i in 0..40 {
        let a = if i == 5 {
            "6.12.51".to_owned()
        } else {
            i.to_string()
        };
        text += &format!("{a},{i}\n");
    }
    let d = dataset(&text, &ColumnChoice::default()).unwrap();
    assert_eq!(d.encoding.feature_names(), ["a"]);
    assert!(d.x[(5, 0)].is_nan());
    assert_eq!(d.notes.len(), 1);
    let note = &d.notes[0];
    assert_eq!(note.kind, NoteKind::TextAsMissing);
    assert_eq!((note.line, note.column, note.count), (7, 1, 1));
    assert_eq!(note.value, "6.12.51");
    // With --drop-missing the row goes.
    let choice = ColumnChoice {
        drop_missing: true,
        ..Default::default()
    };
    let d = dataset(&text, &choice).unwrap();
    assert_eq!((d.n_rows(), d.dropped_rows), (39, 1));
    assert!(d.x.iter().all(|v| v.is_finite()));
    // --numeric makes it an error naming the cell.
    let choice = ColumnChoice {
        numeric: vec!["a".into()],
        ..Default::default()
    };
    match dataset(&text, &choice) {
        Err(DataError::NonNumericFeature { at }) => {
            assert_eq!((at.line, at.column, at.value.as_str()), (7, 1, "6.12.51"))
        }
        other => panic!("{other:?}"),
    }
    // Many text cells: categorical, as before.
    let d = dataset("c,y\nx,1\n2,2\n3,3\n", &ColumnChoice::default()).unwrap();
    assert_eq!(d.encoding.feature_names(), ["c=2", "c=3", "c=x"]);
}

#[test]
fn many_categories_can_be_one_frequency_feature() {
    let text = "c,y\nb,1\na,2\nb,3\n,4\nc,5\n";
    let choice = ColumnChoice {
        max_one_hot: 2,
        ..Default::default()
    };
    let d = dataset(text, &choice).unwrap();
    assert_eq!(d.encoding.feature_names(), ["c"]);
    assert_eq!(d.encoding.feature_kinds(), [FeatureKind::Code(4)]);
    // Codes: index among the sorted categories, missing after the last.
    assert_eq!(
        d.x.column(0).iter().copied().collect::<Vec<_>>(),
        [1., 0., 1., 3., 2.]
    );
    let new = Table::parse("n.csv", b"c\nzz\na\n", None).unwrap();
    let (x, notes) = d.encoding.encode_inputs(&new).unwrap();
    assert_eq!(x.column(0).iter().copied().collect::<Vec<_>>(), [-1., 0.]);
    assert_eq!(notes[0].kind, NoteKind::UnseenCategory);
    // As many categories as the limit: one-hot.
    let choice = ColumnChoice {
        max_one_hot: 4,
        ..Default::default()
    };
    assert_eq!(dataset(text, &choice).unwrap().encoding.n_features(), 4);
}

#[test]
fn targets_and_features_by_name() {
    let choice = ColumnChoice {
        targets: vec!["y1".into(), "y2".into()],
        features: vec!["b".into()],
        ..Default::default()
    };
    let d = dataset("a,b,y1,y2\n1,2,3,4\n5,6,7,8\n", &choice).unwrap();
    assert_eq!(d.encoding.feature_names(), ["b"]);
    assert_eq!(d.y.shape(), (2, 2));
    // A text target is classes unless the task says regression.
    let regress = ColumnChoice {
        task: super::Task::Regress,
        ..Default::default()
    };
    assert!(matches!(
        dataset("a,y\n1,x\n", &regress),
        Err(DataError::NonNumericTarget {
            at: CellLocation {
                line: 2,
                column: 2,
                ..
            }
        })
    ));
    let choice = ColumnChoice {
        targets: vec!["nope".into()],
        ..Default::default()
    };
    assert!(matches!(
        dataset("a,y\n1,2\n", &choice),
        Err(DataError::UnknownColumn { .. })
    ));
}

#[test]
fn targets_by_prefix_in_file_order() {
    let text = "clean_1,noisy_0,clean_0,noisy_1,other\n1,2,3,4,5\n6,7,8,9,10\n";
    let by_prefix = |prefix: &str| ColumnChoice {
        target_prefix: Some(prefix.into()),
        ..Default::default()
    };
    let d = dataset(text, &by_prefix("clean_")).unwrap();
    assert_eq!(d.encoding.targets, ["clean_1", "clean_0"]);
    assert_eq!(d.encoding.feature_names(), ["noisy_0", "noisy_1", "other"]);
    assert_eq!(d.y.row(1).iter().copied().collect::<Vec<_>>(), [6., 8.]);
    // With --features, the prefix only chooses the targets.
    let choice = ColumnChoice {
        features: vec!["noisy_1".into()],
        ..by_prefix("clean_")
    };
    assert_eq!(
        dataset(text, &choice).unwrap().encoding.feature_names(),
        ["noisy_1"]
    );
    match dataset(text, &by_prefix("target_")) {
        Err(e @ DataError::ColumnChoice { .. }) => {
            assert!(
                e.to_string()
                    .contains("no column name starts with \"target_\""),
                "{e}"
            )
        }
        other => panic!("{other:?}"),
    }
    // A prefix that every column matches leaves no inputs.
    assert!(matches!(
        dataset("a1,a2\n1,2\n", &by_prefix("a")),
        Err(DataError::ColumnChoice { .. })
    ));
    let both = ColumnChoice {
        targets: vec!["other".into()],
        ..by_prefix("clean_")
    };
    assert!(matches!(
        dataset(text, &both),
        Err(DataError::ColumnChoice { .. })
    ));
}

#[test]
fn targets_whose_squares_overflow_are_rejected() {
    // ±1e300 squared overflows f64: every MSE would be inf (and R² NaN).
    match dataset("x,y\n1,2\n2,-1e300\n3,1e299\n", &ColumnChoice::default()) {
        Err(
            e @ DataError::TargetTooLarge {
                at: CellLocation {
                    line: 3, column: 2, ..
                },
            },
        ) => {
            assert!(e.to_string().contains("target column \"y\""), "{e}");
            assert!(e.to_string().contains("-1e300"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    // Each value squares finitely, but their sum does not.
    let text = "x,y\n1,1e154\n2,1e154\n";
    assert!(matches!(
        dataset(text, &ColumnChoice::default()),
        Err(DataError::TargetTooLarge {
            at: CellLocation { line: 2, .. }
        })
    ));
    // Several targets share the sum: each column's squares must fit k times over.
    let text = "x,y1,y2\n1,1.2e154,1\n2,1,2\n";
    assert!(dataset(text, &ColumnChoice::default()).is_ok());
    let choice = ColumnChoice {
        targets: vec!["y1".into(), "y2".into()],
        ..Default::default()
    };
    assert!(matches!(
        dataset(text, &choice),
        Err(DataError::TargetTooLarge {
            at: CellLocation { column: 2, .. }
        })
    ));
    // Large features are fine: they are standardized.
    assert!(dataset("x,y\n1e300,1\n-1.7e308,2\n", &ColumnChoice::default()).is_ok());
}

#[test]
fn error_messages_stay_on_one_line() {
    // Quoted names and values may hold newlines; messages escape them (they used to be
    // printed raw, splitting the one-line error).
    let regress = ColumnChoice {
        task: super::Task::Regress,
        ..Default::default()
    };
    let e = dataset("a,\"y\nz\"\n1,\"x\ny\"\n", &regress).unwrap_err();
    assert!(matches!(e, DataError::NonNumericTarget { .. }));
    assert_eq!(
        e.to_string(),
        "t.csv:3:2: target column \"y\\nz\" must be numeric, found \"x\\ny\""
    );
    let choice = ColumnChoice {
        targets: vec!["q".into()],
        ..Default::default()
    };
    let e = dataset("\"a\rb\",y\n1,2\n", &choice).unwrap_err();
    assert!(e.to_string().ends_with("columns are: a\\rb, y"), "{e}");
}

#[test]
fn predict_side_unknowns_are_noted_not_errors() {
    let d = dataset("c,a,y\nx,1,1\nz,2,2\n", &ColumnChoice::default()).unwrap();
    let new = Table::parse("n.csv", b"c,a\nx,1\nw,2\nNA,?\nq,oops\n", None).unwrap();
    let (x, notes) = d.encoding.encode_inputs(&new).unwrap();
    assert_eq!(x.row(0).iter().copied().collect::<Vec<_>>(), [1., 0., 1.]);
    assert_eq!(x[(1, 0)] + x[(1, 1)], 0.0);
    assert_eq!(x[(2, 0)] + x[(2, 1)], 0.0);
    assert!(x[(2, 2)].is_nan() && x[(3, 2)].is_nan());
    let summary: Vec<(NoteKind, u64, usize, usize)> = notes
        .iter()
        .map(|n| (n.kind, n.line, n.column, n.count))
        .collect();
    assert_eq!(
        summary,
        [
            (NoteKind::UnseenCategory, 3, 1, 2),
            (NoteKind::UnseenMissing, 4, 1, 1),
            (NoteKind::TextInNumeric, 5, 2, 1),
        ]
    );
    assert_eq!(
        notes[0].to_string(),
        "column \"c\": 2 rows with a category the model never saw, encoded as none of its \
         categories (first at n.csv:3:1: \"w\")"
    );
    // Inputs that are not columns of the new rows: missing on every row, said once each.
    let new = Table::parse("n.csv", b"other\n1\n", None).unwrap();
    let (x, notes) = d.encoding.encode_inputs(&new).unwrap();
    assert_eq!(x.nrows(), 1);
    assert!(
        notes
            .iter()
            .all(|n| n.kind == NoteKind::AbsentColumn && n.count == 1)
    );
    assert_eq!(notes.len(), d.encoding.inputs.len());
}
