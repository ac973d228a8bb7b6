//! Household import: rows from CSV or XLSX checked as a whole before anything is written.

use crate::error::{AppError, FieldError};
use crate::tabular::{Table, TemplateColumn, cell};

pub struct HouseholdLine {
    pub row: usize,
    pub door_no: String,
    pub head_name: String,
    pub group: Option<String>,
    pub phone: Option<String>,
    pub members: Vec<String>,
}

fn bad(row: usize, column: &str, message: &str) -> FieldError {
    FieldError::new(format!("row {row}: {column}"), message)
}

/// The columns of the household import template, in the order the import reads best.
pub fn template_columns(groups: Vec<String>) -> Vec<TemplateColumn> {
    let column = |name, help, example, text| TemplateColumn {
        name,
        help,
        example,
        text,
        choices: Vec::new(),
    };
    vec![
        column(
            "门牌号",
            "每户一个，不能重复。已有的门牌号会更新这一户。",
            "那洪屯12号",
            true,
        ),
        column("户主", "户主的姓名。", "韦福生", false),
        TemplateColumn {
            choices: groups,
            ..column(
                "小组",
                "本村的小组（屯），可从下拉列表里选；写新名字会新建小组。",
                "那洪屯",
                false,
            )
        },
        column("电话", "户主的手机号，可以不填。", "10017710001", true),
        column(
            "成员",
            "户主以外的家庭成员，用顿号（、）隔开，可以不填。不要填身份证号。",
            "黄秀英、韦小龙",
            false,
        ),
    ]
}

/// Parses every row; returns all problems at once so the committee can fix the sheet
/// in one go.
pub fn parse_households(bytes: &[u8]) -> Result<Vec<HouseholdLine>, AppError> {
    let table = Table::read(bytes, &["door_no", "门牌号", "门牌号码"])?;
    let door = table.required(&["door_no", "门牌号", "门牌号码"]);
    let head = table.required(&["head_name", "户主", "户主姓名"]);
    let (door, head) = match (door, head) {
        (Ok(d), Ok(h)) => (d, h),
        (d, h) => {
            return Err(AppError::Validation(
                [d.err(), h.err()].into_iter().flatten().collect(),
            ));
        }
    };
    // Also the names of the desk's own register export, so it imports back.
    let group = table.column(&["group", "小组", "村民小组", "组别"]);
    let phone = table.column(&["phone", "电话", "联系电话", "手机号"]);
    let members = table.column(&["members", "成员", "家庭成员"]);

    let mut lines = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (row, cells) in &table.rows {
        let row = *row;
        let door_no = cell(cells, Some(door));
        let head_name = cell(cells, Some(head));
        match door_no {
            None => errors.push(bad(row, "door_no", "门牌号不能为空")),
            Some(d) if d.chars().count() > 32 => {
                errors.push(bad(row, "door_no", "门牌号最多 32 个字"))
            }
            Some(d) => {
                if let Some(first) = seen.insert(d.to_owned(), row) {
                    errors.push(bad(row, "door_no", &format!("与第 {first} 行的门牌号重复")));
                }
            }
        }
        match head_name {
            None => errors.push(bad(row, "head_name", "户主不能为空")),
            Some(h) if h.chars().count() > 32 => {
                errors.push(bad(row, "head_name", "户主姓名最多 32 个字"))
            }
            Some(_) => {}
        }
        let group_name = cell(cells, group);
        if group_name.is_some_and(|g| g.chars().count() > 32) {
            errors.push(bad(row, "group", "组名最多 32 个字"));
        }
        let phone_text = cell(cells, phone);
        if let Some(p) = phone_text {
            let digits = p.chars().filter(char::is_ascii_digit).count();
            if !(5..=20).contains(&digits)
                || !p.chars().all(|c| c.is_ascii_digit() || "+- ".contains(c))
            {
                errors.push(bad(row, "phone", "不是有效的电话号码"));
            }
        }
        let member_names: Vec<String> = cell(cells, members)
            .map(|m| {
                m.split(['、', ',', '，'])
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if member_names.iter().any(|n| n.chars().count() > 32) {
            errors.push(bad(row, "members", "成员姓名最多 32 个字"));
        }
        if let (Some(door_no), Some(head_name)) = (door_no, head_name) {
            lines.push(HouseholdLine {
                row,
                door_no: door_no.to_owned(),
                head_name: head_name.to_owned(),
                group: group_name.map(str::to_owned),
                phone: phone_text.map(str::to_owned),
                members: member_names,
            });
        }
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(AppError::Validation(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_english_or_chinese_headers() {
        let csv = "门牌号,户主,小组,电话,成员\n1号,张小明,第一组,13800138000,李秀英、张伟\n";
        let lines = parse_households(csv.as_bytes()).unwrap();
        assert_eq!(lines[0].members, ["李秀英", "张伟"]);
        assert_eq!(lines[0].group.as_deref(), Some("第一组"));
    }

    #[test]
    fn every_bad_row_is_reported() {
        let csv = "door_no,head_name,phone\n1号,,abc\n1号,王五,\n";
        let Err(AppError::Validation(errors)) = parse_households(csv.as_bytes()) else {
            panic!("expected errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["row 2: head_name", "row 2: phone", "row 3: door_no"]
        );
    }
}
