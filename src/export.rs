//! Lists as files for committees and the township, who live in Excel (API.md "Township
//! reports and exports"): XLSX by default or CSV, each with a title block (what, village,
//! period, when made, the chain head), Chinese headers, typed cells (numbers as numbers,
//! dates as dates), a frozen header, widths that fit Chinese text, and a Chinese file name.
//!
//! Formula injection: an XLSX cell written as text is never a formula, so its text stays as
//! it was; in CSV, which a spreadsheet reads as typed, text beginning with `= + - @` (or a
//! tab or carriage return) gets a leading apostrophe.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::amount::Amount;
use crate::clock::shanghai;
use crate::error::{AppError, AppResult};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The file an export is made as.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    #[default]
    Xlsx,
    Csv,
}

/// `?format=xlsx|csv` on an export.
#[derive(Debug, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `xlsx` (default) or `csv` (UTF-8 with BOM)
    #[param(inline)]
    pub format: Option<FileFormat>,
}

/// One value of a row, typed as the spreadsheet should hold it.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    /// Points or yuan, two decimals.
    Amount(Amount),
    Count(i64),
    Date(NaiveDate),
    /// An instant, shown at Shanghai's time.
    Time(DateTime<Utc>),
    Empty,
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::Text(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::Text(text.to_owned())
    }
}

impl From<Amount> for Cell {
    fn from(amount: Amount) -> Self {
        Cell::Amount(amount)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(value: Option<T>) -> Self {
        value.map_or(Cell::Empty, Into::into)
    }
}

/// A list to export: what it is, the facts that frame it, its columns and rows.
#[derive(Clone, Debug)]
pub struct Sheet {
    /// The title row, e.g. "庆乐村 户籍名册".
    pub title: String,
    /// Lines under the title: ("村", "庆乐村"), ("期间", "2026-01-01 至 2026-12-31"), ….
    pub facts: Vec<(&'static str, String)>,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    /// A last row of totals, set apart in bold.
    pub total: Option<Vec<Cell>>,
    /// The file's name without extension, in Chinese, e.g. "庆乐村-户籍名册-20261202".
    pub file_name: String,
}

/// An export ready to send.
#[derive(Debug)]
pub struct ExportFile {
    pub content_type: &'static str,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

impl ExportFile {
    /// An import template (see [`crate::tabular::template`]) named `name`.
    pub fn template(name: &str, columns: &[crate::tabular::TemplateColumn]) -> AppResult<Self> {
        Ok(ExportFile {
            content_type: XLSX,
            file_name: format!("{name}.xlsx"),
            bytes: crate::tabular::template("导入", columns).map_err(AppError::internal)?,
        })
    }
}

impl Sheet {
    pub fn new(title: impl Into<String>, columns: Vec<&'static str>) -> Self {
        let title = title.into();
        Sheet {
            file_name: title.replace(' ', "-"),
            title,
            facts: Vec::new(),
            columns,
            rows: Vec::new(),
            total: None,
        }
    }

    /// Adds the facts every export carries last: when it was made.
    pub fn made_at(mut self, now: DateTime<Utc>) -> Self {
        let local = now.with_timezone(&shanghai());
        self.facts
            .push(("导出时间", local.format("%Y-%m-%d %H:%M").to_string()));
        self.file_name = format!("{}-{}", self.file_name, local.format("%Y%m%d"));
        self
    }

    pub fn render(&self, format: FileFormat) -> AppResult<ExportFile> {
        match format {
            FileFormat::Xlsx => Ok(ExportFile {
                content_type: XLSX,
                file_name: format!("{}.xlsx", self.file_name),
                bytes: self.xlsx().map_err(AppError::internal)?,
            }),
            FileFormat::Csv => Ok(ExportFile {
                content_type: "text/csv; charset=utf-8",
                file_name: format!("{}.csv", self.file_name),
                bytes: self.csv()?,
            }),
        }
    }

    fn title_lines(&self) -> Vec<String> {
        std::iter::once(self.title.clone())
            .chain(
                self.facts
                    .iter()
                    .map(|(label, value)| format!("{label}：{value}")),
            )
            .collect()
    }

    fn csv(&self) -> AppResult<Vec<u8>> {
        let mut writer = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(b"\xEF\xBB\xBF".to_vec());
        for line in self.title_lines() {
            writer
                .write_record([neutral(&line)])
                .map_err(AppError::internal)?;
        }
        writer.write_record([""]).map_err(AppError::internal)?;
        writer
            .write_record(&self.columns)
            .map_err(AppError::internal)?;
        for row in self.rows.iter().chain(self.total.iter()) {
            writer
                .write_record(row.iter().map(csv_text))
                .map_err(AppError::internal)?;
        }
        writer.into_inner().map_err(AppError::internal)
    }

    fn xlsx(&self) -> Result<Vec<u8>, XlsxError> {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(&self.title))?;
        let last_col = self.columns.len().saturating_sub(1) as u16;
        let title = Format::new().set_bold().set_font_size(14);
        let header = Format::new()
            .set_bold()
            .set_border_bottom(rust_xlsxwriter::FormatBorder::Thin);
        let styles = Styles::new();
        let lines = self.title_lines();
        for (row, line) in (0u32..).zip(lines.iter()) {
            let format = if row == 0 { &title } else { &styles.plain };
            if last_col > 0 {
                sheet.merge_range(row, 0, row, last_col, line, format)?;
            } else {
                sheet.write_string_with_format(row, 0, line, format)?;
            }
        }
        let header_row = lines.len() as u32 + 1;
        for (col, name) in (0u16..).zip(&self.columns) {
            sheet.write_string_with_format(header_row, col, *name, &header)?;
        }
        sheet.set_freeze_panes(header_row + 1, 0)?;
        let total_row = self.total.as_ref().map(|t| (t, true));
        let rows = self.rows.iter().map(|r| (r, false)).chain(total_row);
        for (row, (cells, bold)) in (header_row + 1..).zip(rows) {
            for (col, cell) in (0u16..).zip(cells) {
                styles.write(sheet, row, col, cell, bold)?;
            }
        }
        for (col, width) in (0u16..).zip(self.widths()) {
            sheet.set_column_width(col, width)?;
        }
        book.save_to_buffer()
    }

    /// Each column's width in Excel's units, from its longest text (a Chinese character
    /// takes two).
    fn widths(&self) -> Vec<f64> {
        (0..self.columns.len())
            .map(|col| {
                let header = display_width(self.columns[col]);
                let widest = self
                    .rows
                    .iter()
                    .chain(self.total.iter())
                    .filter_map(|row| row.get(col))
                    .map(|cell| display_width(&csv_text(cell)))
                    .max()
                    .unwrap_or(0);
                (header.max(widest) + 2).clamp(6, 60) as f64
            })
            .collect()
    }
}

/// The cell formats of a sheet, plain and in bold (the totals row).
struct Styles {
    plain: Format,
    amount: [Format; 2],
    count: [Format; 2],
    date: [Format; 2],
    time: [Format; 2],
    text: [Format; 2],
}

impl Styles {
    fn new() -> Self {
        let both = |f: Format| [f.clone(), f.set_bold()];
        Styles {
            plain: Format::new(),
            amount: both(Format::new().set_num_format("0.00")),
            count: both(Format::new().set_num_format("0")),
            date: both(Format::new().set_num_format("yyyy-mm-dd")),
            time: both(Format::new().set_num_format("yyyy-mm-dd hh:mm")),
            text: both(Format::new()),
        }
    }

    fn write(
        &self,
        sheet: &mut rust_xlsxwriter::Worksheet,
        row: u32,
        col: u16,
        cell: &Cell,
        bold: bool,
    ) -> Result<(), XlsxError> {
        let style = usize::from(bold);
        match cell {
            Cell::Text(text) => sheet.write_string_with_format(row, col, text, &self.text[style]),
            Cell::Amount(amount) => sheet.write_number_with_format(
                row,
                col,
                amount.minor() as f64 / 100.0,
                &self.amount[style],
            ),
            Cell::Count(n) => {
                sheet.write_number_with_format(row, col, *n as f64, &self.count[style])
            }
            Cell::Date(day) => {
                sheet.write_datetime_with_format(row, col, excel_date(*day)?, &self.date[style])
            }
            Cell::Time(at) => {
                let local = at.with_timezone(&shanghai());
                let value = excel_date(local.date_naive())?.and_hms(
                    local.hour() as u16,
                    local.minute() as u8,
                    local.second(),
                )?;
                sheet.write_datetime_with_format(row, col, value, &self.time[style])
            }
            Cell::Empty => return Ok(()),
        }
        .map(drop)
    }
}

fn excel_date(day: NaiveDate) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(day.year() as u16, day.month() as u8, day.day() as u8)
}

/// A cell as CSV text: dates as `2026-12-02`, times at Shanghai's `2026-12-02 09:30`.
fn csv_text(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) => neutral(text),
        Cell::Amount(amount) => amount.to_string(),
        Cell::Count(n) => n.to_string(),
        Cell::Date(day) => day.format("%Y-%m-%d").to_string(),
        Cell::Time(at) => at
            .with_timezone(&shanghai())
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        Cell::Empty => String::new(),
    }
}

/// Text a spreadsheet would read as a formula, made plain text.
fn neutral(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// A sheet's name: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(title: &str) -> String {
    title
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '-' } else { c })
        .take(31)
        .collect()
}

/// Columns a text takes: two for each wide (CJK) character.
fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 2 } else { 1 })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet() -> Sheet {
        let mut sheet = Sheet::new(
            "庆乐村 户籍名册",
            vec!["门牌号", "户主", "积分", "登记日期"],
        );
        sheet.facts.push(("村", "庆乐村".to_owned()));
        sheet.rows.push(vec![
            "一组-01".into(),
            "=HYPERLINK(\"http://x\")".into(),
            Amount::parse("36").unwrap().into(),
            Cell::Date(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()),
        ]);
        sheet
    }

    #[test]
    fn csv_carries_the_title_and_neutralises_formulas_but_not_numbers() {
        let bytes = sheet().render(FileFormat::Csv).unwrap().bytes;
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "\u{feff}庆乐村 户籍名册");
        assert_eq!(lines[1], "村：庆乐村");
        assert_eq!(lines[3], "门牌号,户主,积分,登记日期");
        assert_eq!(
            lines[4],
            "一组-01,\"'=HYPERLINK(\"\"http://x\"\")\",36.00,2026-03-01"
        );
    }

    #[test]
    fn widths_count_chinese_characters_twice() {
        assert_eq!(display_width("庆乐村"), 6);
        assert_eq!(display_width("A-01"), 4);
        assert_eq!(sheet().widths(), vec![9.0, 25.0, 7.0, 12.0]);
    }

    #[test]
    fn sheet_names_fit_excel() {
        assert_eq!(sheet_name("a/b[c]"), "a-b-c-");
        assert_eq!(sheet_name(&"村".repeat(40)).chars().count(), 31);
    }
}
