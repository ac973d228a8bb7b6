//! Checklist import: every row checked before anything is written.

use validator::Validate;

use super::model::{ItemInput, Period, Proposer};
use crate::amount::Amount;
use crate::error::{AppError, FieldError};
use crate::tabular::{Table, TemplateColumn, cell};

fn bad(row: usize, column: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(format!("row {row}: {column}"), message)
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_lowercase().as_str() {
        "是" | "true" | "yes" | "1" | "y" => Some(true),
        "否" | "false" | "no" | "0" | "n" => Some(false),
        _ => None,
    }
}

/// The columns of the checklist import template.
pub fn template_columns() -> Vec<TemplateColumn> {
    let column = |name, help, example| TemplateColumn {
        name,
        help,
        example,
        text: false,
        choices: Vec::new(),
    };
    let periods = [
        Period::Event,
        Period::Month,
        Period::Quarter,
        Period::HalfYear,
        Period::Year,
    ];
    vec![
        TemplateColumn {
            text: true,
            ..column("编号", "每项一个，不能重复，如 A01。", "C01")
        },
        column(
            "类别",
            "事项的类别，如 孝老爱亲、环境卫生、移风易俗。",
            "移风易俗",
        ),
        column("事项", "事项的名称。", "红白喜事简办"),
        column("说明", "怎样才算数，可以不填。", "按村规民约标准办理"),
        column(
            "分值",
            "加分填正数，扣分填负数（如 -5），最多两位小数。",
            "10",
        ),
        TemplateColumn {
            choices: periods.iter().map(|p| p.chinese().to_owned()).collect(),
            ..column("周期", "上限次数按多长时间算，从下拉列表里选。", "每次")
        },
        column("上限次数", "这个周期里最多几次；不限次数就空着。", "1"),
        column(
            "申报人",
            "谁可以申报：村民、组长、村委，用顿号隔开。",
            "村民、组长、村委",
        ),
        TemplateColumn {
            choices: vec!["是".to_owned(), "否".to_owned()],
            ..column("需要证据", "申报时要不要附照片。", "是")
        },
        TemplateColumn {
            choices: vec!["是".to_owned(), "否".to_owned()],
            ..column(
                "需要写明成员",
                "荣誉属于家里某一位时（考上大学、应征入伍）填 是，申报时要选是哪一位；可以不填。",
                "否",
            )
        },
    ]
}

pub fn parse_items(bytes: &[u8]) -> Result<Vec<(usize, ItemInput)>, AppError> {
    let table = Table::read(bytes, &["code", "编号"])?;
    let columns = Columns::find(&table)?;
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (row, cells) in &table.rows {
        let row = *row;
        let before = errors.len();
        let input = columns.item(row, cells, &mut errors);
        if let Err(invalid) = input.validate() {
            let named_already = errors[before..].iter().map(|e| e.field.clone()).collect();
            errors.extend(rule_errors(row, &invalid, named_already));
        }
        if let Some(first) = seen.insert(input.code.clone(), row) {
            errors.push(bad(row, "code", format!("与第 {first} 行的编号重复")));
        }
        items.push((row, input));
    }
    if errors.is_empty() {
        return Ok(items);
    }
    errors.sort_by_key(|e| {
        e.field
            .trim_start_matches("row ")
            .split(':')
            .next()
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0)
    });
    Err(AppError::Validation(errors))
}

/// Where each field of an item stands in the table (Chinese or English headers).
struct Columns {
    code: Option<usize>,
    category: Option<usize>,
    title: Option<usize>,
    points: Option<usize>,
    period: Option<usize>,
    proposers: Option<usize>,
    description: Option<usize>,
    cap: Option<usize>,
    evidence: Option<usize>,
    member: Option<usize>,
}

impl Columns {
    /// The columns, or every required one that is missing.
    fn find(table: &Table) -> Result<Self, AppError> {
        let required = [
            table.required(&["code", "编号"]),
            table.required(&["category", "类别"]),
            table.required(&["title", "事项"]),
            table.required(&["points", "分值"]),
            table.required(&["period", "周期"]),
            table.required(&["proposers", "申报人"]),
        ];
        let missing: Vec<FieldError> = required.iter().filter_map(|r| r.clone().err()).collect();
        if !missing.is_empty() {
            return Err(AppError::Validation(missing));
        }
        let [code, category, title, points, period, proposers] = required.map(|r| r.ok());
        Ok(Self {
            code,
            category,
            title,
            points,
            period,
            proposers,
            description: table.column(&["description", "说明"]),
            cap: table.column(&["cap_count", "上限次数"]),
            evidence: table.column(&["evidence_required", "需要证据"]),
            member: table.column(&["member_required", "需要写明成员"]),
        })
    }

    /// One row as an item; what cannot be read goes to `errors`, naming the row.
    fn item(&self, row: usize, cells: &[String], errors: &mut Vec<FieldError>) -> ItemInput {
        let text = |c| cell(cells, c).unwrap_or("").to_owned();
        let points = Amount::parse(&text(self.points)).unwrap_or_else(|e| {
            errors.push(bad(row, "points", e.to_string()));
            Amount::ZERO
        });
        let period = Period::from_name(&text(self.period)).unwrap_or_else(|| {
            errors.push(bad(row, "period", "周期须为 每次/每月/每季度/每半年/每年"));
            Period::Event
        });
        let cap_count = cell(cells, self.cap).and_then(|c| {
            c.parse::<f64>()
                .ok()
                .filter(|n| n.fract() == 0.0)
                .map(|n| n as i32)
                .or_else(|| {
                    errors.push(bad(row, "cap_count", "上限次数须为整数或留空"));
                    None
                })
        });
        let proposers = text(self.proposers)
            .split(['、', ',', '，'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .filter_map(|p| {
                Proposer::parse(p).or_else(|| {
                    errors.push(bad(row, "proposers", format!("不认识的申报人“{p}”")));
                    None
                })
            })
            .collect();
        let mut yes_or_no = |column, field| {
            cell(cells, column).is_some_and(|e| {
                parse_bool(e).unwrap_or_else(|| {
                    errors.push(bad(row, field, "须为 是 或 否"));
                    false
                })
            })
        };
        let evidence_required = yes_or_no(self.evidence, "evidence_required");
        let member_required = yes_or_no(self.member, "member_required");
        ItemInput {
            code: text(self.code),
            category: text(self.category),
            title: text(self.title),
            description: text(self.description),
            points,
            period,
            cap_count,
            proposers,
            evidence_required,
            member_required,
        }
    }
}

/// The item rules a row breaks, for the fields no reading error has named already.
fn rule_errors(
    row: usize,
    invalid: &validator::ValidationErrors,
    named_already: std::collections::HashSet<String>,
) -> Vec<FieldError> {
    invalid
        .field_errors()
        .into_iter()
        .filter(|(field, _)| !named_already.contains(&format!("row {row}: {field}")))
        .map(|(field, list)| {
            let message = list
                .first()
                .and_then(|e| e.message.clone())
                .map(|m| m.to_string());
            bad(row, &field, message.unwrap_or_else(|| "格式不对".into()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_chinese_headers_and_values() {
        let csv = "编号,类别,事项,说明,分值,周期,上限次数,申报人,需要证据\nA01,孝老爱亲,照顾老人,,5,每月,2,村民、组长,是\nB01,环境卫生,乱倒垃圾,,-3,每次,,村委,否\n";
        let items = parse_items(csv.as_bytes()).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].1.period, Period::Month);
        assert_eq!(
            items[0].1.proposers,
            vec![Proposer::Villager, Proposer::GroupLeader]
        );
        assert!(items[0].1.evidence_required);
        assert_eq!(items[1].1.points.minor(), -300);
        assert_eq!(items[1].1.cap_count, None);
    }

    #[test]
    fn names_row_and_column_of_each_problem() {
        let csv = "code,category,title,points,period,proposers\nA01,c,t,0,month,villager\nA02,c,t,1.234,weekly,mayor\n";
        let Err(AppError::Validation(errors)) = parse_items(csv.as_bytes()) else {
            panic!("expected errors")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "row 2: points",
                "row 3: points",
                "row 3: period",
                "row 3: proposers"
            ]
        );
    }
}
