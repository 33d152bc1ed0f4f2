use super::*;
use crate::testing::table;

#[test]
fn columns_are_numeric_when_every_value_is_a_number() {
    let data = Dataset::labelled(
        &table("n,c,nan,empty,t\n1, 2.5 ,NaN,,good\n,x,1,,bad\n-3e2,7,2,,good\n"),
        "t",
        "bad",
        &[],
    )
    .expect("valid");
    let values: Vec<(&str, &Values)> = data
        .variables
        .iter()
        .map(|v| (v.name.as_str(), &v.values))
        .collect();
    let text = |v: &[&str]| -> Vec<Option<String>> {
        v.iter()
            .map(|s| (!s.is_empty()).then(|| (*s).to_owned()))
            .collect()
    };
    assert_eq!(
        values,
        [
            ("n", &Values::Numeric(vec![Some(1.0), None, Some(-300.0)])),
            ("c", &Values::Categorical(text(&["2.5", "x", "7"]))),
            ("nan", &Values::Categorical(text(&["NaN", "1", "2"]))),
            ("empty", &Values::Categorical(text(&["", "", ""]))),
        ]
    );
    assert_eq!(data.is_bad, [false, true, false]);
}

#[test]
fn excluded_columns_are_not_candidates() {
    let data = Dataset::labelled(
        &table("id,x,t\n1,a,good\n2,b,bad\n"),
        "t",
        "bad",
        &["id".to_owned()],
    )
    .expect("valid");
    let names: Vec<&str> = data.variables.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["x"]);
}

fn message(text: &str, target: &str, exclude: &[&str]) -> String {
    let exclude: Vec<String> = exclude.iter().map(|s| (*s).to_owned()).collect();
    match Dataset::labelled(&table(text), target, "bad", &exclude) {
        Ok(_) => "ok".to_owned(),
        Err(error) => error.to_string(),
    }
}

#[test]
fn unusable_labels_say_why() {
    let messages = [
        message("x,t\n1,good\n", "target", &[]),
        message("x,t\n1,good\n2,Bad\n", "t", &[]),
        message("x,t\n1,bad\n2, bad \n", "t", &[]),
        message("x,t\n1,good\n2,\n", "t", &[]),
        message("t\nbad\ngood\n", "t", &[]),
        message("x,t\n1,bad\n2,good\n", "t", &["y"]),
    ];
    expect_test::expect![[r#"
        [
            "no column \"target\" in the file (columns: x, t)",
            "the target column \"t\" has no row equal to the bad value \"bad\"",
            "every row of the target column \"t\" is the bad value \"bad\": there are no goods",
            "line 3: the target column \"t\" is empty",
            "the file has no candidate variable besides the target column",
            "no column \"y\" in the file (columns: x, t)",
        ]
    "#]]
    .assert_debug_eq(&messages);
}
