//! Reading and writing roster files (.xlsx and .csv), shared by the command line and the admin
//! upload. The layout is one row per resident under a header row; see [`Column`] for the headers.
//! CSV is written as UTF-8 with a byte-order mark so that Excel opens Chinese correctly.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::{Duration, NaiveDate};
use yongxin_domain::roster::{Column, RosterIssue, RosterReason, RosterRow};
use yongxin_store::{HouseholdSummary, RosterEntry};

use crate::http::i18n::{Catalog, Lang};

fn file_issue(reason: RosterReason, column: Option<Column>) -> Vec<RosterIssue> {
    vec![RosterIssue {
        row: if column.is_some() { 1 } else { 0 },
        column,
        household_key: None,
        reason,
    }]
}

/// Reads a roster file; an .xlsx is recognised by its content (a zip archive), anything else is
/// read as CSV. Header problems come back as issues, like row problems.
pub fn read_roster(bytes: &[u8]) -> Result<Vec<RosterRow>, Vec<RosterIssue>> {
    let mut rows = read_table(bytes)?.into_iter();
    let Some(header) = rows.next() else {
        return Err(file_issue(RosterReason::Empty, None));
    };
    let columns: Vec<Option<Column>> = header.iter().map(|h| Column::from_header(h)).collect();
    let missing: Vec<RosterIssue> = Column::ALL
        .into_iter()
        .filter(|c| c.required() && !columns.contains(&Some(*c)))
        .flat_map(|c| file_issue(RosterReason::MissingColumn, Some(c)))
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    Ok(rows
        .enumerate()
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
        .map(|(i, cells)| {
            let mut map = HashMap::new();
            for (cell, column) in cells.into_iter().zip(&columns) {
                if let Some(c) = column {
                    map.insert(*c, cell);
                }
            }
            RosterRow {
                row: i + 2,
                cells: map,
            }
        })
        .collect())
}

/// Most rows an import reads (a subdistrict's roster is a few ten thousand residents).
pub const MAX_ROWS: usize = 200_000;
/// Most columns an import reads.
pub const MAX_COLUMNS: usize = 64;
/// Most bytes the parts of a workbook may unpack to, together.
pub const MAX_UNPACKED_BYTES: u64 = 200 * 1024 * 1024;
/// Most parts a workbook may have.
const MAX_PARTS: usize = 1_000;

/// Reads a spreadsheet's first sheet as rows of text cells; an .xlsx is recognised by its content
/// (a zip archive, checked before it is unpacked), anything else is read as CSV.
pub fn read_table(bytes: &[u8]) -> Result<Vec<Vec<String>>, Vec<RosterIssue>> {
    if bytes.starts_with(b"PK") {
        read_xlsx(bytes)
    } else {
        read_csv(bytes)
    }
}

fn too_large() -> Vec<RosterIssue> {
    file_issue(
        RosterReason::TooLarge {
            rows: MAX_ROWS,
            columns: MAX_COLUMNS,
            mb: usize::try_from(MAX_UNPACKED_BYTES / (1024 * 1024)).unwrap_or(usize::MAX),
        },
        None,
    )
}

/// Unpacks every part of the archive into nothing, counting, before the workbook reader sees
/// it: a zip bomb (parts that unpack to gigabytes, whatever sizes they declare) is refused here
/// instead of filling memory there.
fn check_unpacked_size(bytes: &[u8]) -> Result<(), Vec<RosterIssue>> {
    let unreadable = || file_issue(RosterReason::Unreadable, None);
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| unreadable())?;
    if archive.len() > MAX_PARTS {
        return Err(too_large());
    }
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let part = archive.by_index(i).map_err(|_| unreadable())?;
        let left = MAX_UNPACKED_BYTES - total;
        let read = std::io::copy(
            &mut std::io::Read::take(part, left + 1),
            &mut std::io::sink(),
        )
        .map_err(|_| unreadable())?;
        total += read;
        if total > MAX_UNPACKED_BYTES {
            return Err(too_large());
        }
    }
    Ok(())
}

/// The first sheet, cell by cell: the table is built from the cells present, so a sheet that
/// claims a vast range (or puts one cell at XFD1048576) is refused instead of allocated.
fn read_xlsx(bytes: &[u8]) -> Result<Vec<Vec<String>>, Vec<RosterIssue>> {
    let unreadable = || file_issue(RosterReason::Unreadable, None);
    check_unpacked_size(bytes)?;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|_| unreadable())?;
    let name = book
        .sheet_names()
        .into_iter()
        .next()
        .ok_or_else(unreadable)?;
    let mut cells = book
        .worksheet_cells_reader(&name)
        .map_err(|_| unreadable())?;
    let mut table: Vec<Vec<String>> = Vec::new();
    while let Some(cell) = cells.next_cell().map_err(|_| unreadable())? {
        let (row, column) = cell.get_position();
        let (row, column) = (
            usize::try_from(row).unwrap_or(usize::MAX),
            usize::try_from(column).unwrap_or(usize::MAX),
        );
        if row >= MAX_ROWS || column >= MAX_COLUMNS {
            return Err(too_large());
        }
        let text = cell_text(&Data::from(cell.get_value().clone()));
        if text.is_empty() {
            continue;
        }
        if table.len() <= row {
            table.resize_with(row + 1, Vec::new);
        }
        let line = &mut table[row];
        if line.len() <= column {
            line.resize(column + 1, String::new());
        }
        line[column] = text;
    }
    // Rows above the header (a title left blank) are not part of the table, as before.
    let first = table
        .iter()
        .position(|r| !r.is_empty())
        .unwrap_or(table.len());
    table.drain(..first);
    Ok(table)
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        // Phone numbers typed into Excel arrive as floats; whole numbers are written without ".0".
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => excel_serial_date(d.as_f64())
            .map(|d| d.to_string())
            .unwrap_or_default(),
        Data::Error(e) => format!("{e:?}"),
    }
}

/// Excel's serial day numbers count from 1899-12-30 (its 1900 leap-year bug included). A date
/// cell can hold any number; one that is no day chrono can hold is no date, not a panic.
fn excel_serial_date(serial: f64) -> Option<NaiveDate> {
    let days = Duration::try_days(serial.is_finite().then(|| serial.floor() as i64)?)?;
    NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_signed(days)
}

fn read_csv(bytes: &[u8]) -> Result<Vec<Vec<String>>, Vec<RosterIssue>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut table = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|_| file_issue(RosterReason::Unreadable, None))?;
        if table.len() >= MAX_ROWS || record.len() > MAX_COLUMNS {
            return Err(too_large());
        }
        table.push(record.iter().map(str::to_owned).collect());
    }
    Ok(table)
}

/// The roster layout, one row per resident: what `import` reads. Masked unless `full`. In
/// Chinese with the roster's Chinese headers and words (男, 配偶, 在校学生); in any other language
/// with its English headers and codes (`sex`, `male`, `spouse`, `student`), which `import`
/// reads as well.
pub fn residents_table(entries: &[RosterEntry], full: bool, lang: Lang) -> Vec<Vec<String>> {
    let zh = lang == Lang::ZhCn;
    let mut table = vec![Column::ALL
        .iter()
        .map(|c| if zh { c.header() } else { c.code() }.to_owned())
        .collect()];
    for e in entries {
        let m = &e.member;
        let id = m.id_number.shown(full);
        let phone = m.phone.as_ref().map(|p| p.shown(full)).unwrap_or_default();
        table.push(
            Column::ALL
                .iter()
                .map(|c| match c {
                    Column::HouseholdKey => e.household_key.clone(),
                    Column::Village => e.village_name.clone(),
                    Column::Grid => e.grid_code.clone(),
                    Column::Address => e.address.clone(),
                    Column::Name => m.name.clone(),
                    Column::Sex => if zh { m.sex.zh() } else { m.sex.code() }.to_owned(),
                    Column::BirthDate if full => m.birth_date.to_string(),
                    Column::BirthDate => yongxin_domain::id_number::mask_birth_date(m.birth_date),
                    Column::IdNumber => id.clone(),
                    Column::Phone => phone.clone(),
                    Column::Relation => if zh {
                        m.relation.zh()
                    } else {
                        m.relation.code()
                    }
                    .to_owned(),
                    Column::RegisteredSince => m
                        .registered_since
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                    Column::Flags if zh => yongxin_domain::registry::flags_to_zh(&m.flags),
                    Column::Flags => m
                        .flags
                        .iter()
                        .map(|f| f.code())
                        .collect::<Vec<_>>()
                        .join(","),
                })
                .collect(),
        );
    }
    table
}

/// One row per household with its head. Masked unless `full`.
pub fn households_table(
    households: &[HouseholdSummary],
    full: bool,
    catalog: &Catalog,
) -> Vec<Vec<String>> {
    let mut table = vec![[
        "households.col_key",
        "households.col_village",
        "households.col_grid",
        "households.col_address",
        "households.col_head",
        "households.col_head_id",
        "households.col_head_phone",
        "households.col_members",
    ]
    .iter()
    .map(|key| catalog.t(key).to_owned())
    .collect()];
    for h in households {
        let phone = h
            .head_phone
            .as_ref()
            .map(|p| p.shown(full))
            .unwrap_or_default();
        table.push(vec![
            h.key.clone(),
            h.village_name.clone(),
            h.grid_name.clone(),
            h.address.clone(),
            h.head_name.clone(),
            h.head_id_number
                .as_ref()
                .map(|n| n.shown(full))
                .unwrap_or_default(),
            phone,
            h.member_count.to_string(),
        ]);
    }
    table
}

/// One issue as a sentence in the catalog's language: row, column and reason.
pub fn issue_message(issue: &RosterIssue, catalog: &Catalog) -> String {
    let reason = catalog.format(
        &format!("roster.reason.{}", issue.reason.code()),
        &issue.reason.params(),
    );
    let column = issue.column.map(|c| c.header()).unwrap_or("");
    match (issue.row, issue.column) {
        (0, _) => catalog.format("roster.issue_file", &[("reason", reason)]),
        (row, Some(_)) => catalog.format(
            "roster.issue",
            &[
                ("row", row.to_string()),
                ("column", column.to_owned()),
                ("reason", reason),
            ],
        ),
        (row, None) => catalog.format(
            "roster.issue_row",
            &[("row", row.to_string()), ("reason", reason)],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::sheet::{write_table, SheetFormat};

    #[test]
    fn csv_with_bom_and_english_headers_is_read() {
        let text = "\u{feff}household_key,village,grid,address,name,sex,birth_date,id_number,relation\nH1,V01,V01-G1,前街1号,李强,男,1980-01-01,x,户主\n,,,,,,,,\n";
        let rows = read_roster(text.as_bytes()).expect("rows");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].row, 2);
        assert_eq!(rows[0].cells[&Column::Name], "李强");
    }

    #[test]
    fn a_missing_required_column_is_named() {
        let issues = read_roster("户号,姓名\nH1,李强\n".as_bytes()).expect_err("missing");
        assert!(
            issues
                .iter()
                .any(|i| i.column == Some(Column::IdNumber)
                    && i.reason == RosterReason::MissingColumn)
        );
    }

    #[test]
    fn xlsx_round_trips_text_cells() {
        let table = vec![
            Column::ALL
                .iter()
                .map(|c| c.header().to_owned())
                .collect::<Vec<_>>(),
            vec![
                "H1",
                "东坞村",
                "V01-G1",
                "前街1号",
                "李强",
                "男",
                "1980-01-01",
                "370112198001010014",
                "13812345678",
                "户主",
                "",
                "",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
        ];
        let bytes = write_table(&table, SheetFormat::Xlsx).expect("xlsx");
        let rows = read_roster(&bytes).expect("rows");
        assert_eq!(rows[0].cells[&Column::IdNumber], "370112198001010014");
        assert_eq!(rows[0].cells[&Column::Phone], "13812345678");
    }

    /// Found by fuzzing (`roster_xlsx`): calamine 0.30 indexed the shared strings by a cell's
    /// number without a bound check and panicked; 0.32 refuses such a workbook.
    #[test]
    fn a_cell_naming_a_shared_string_that_does_not_exist_is_unreadable() {
        let bytes =
            include_bytes!("../../../../fuzz/corpus/roster_xlsx/shared_string_out_of_range.xlsx");
        let issues = read_roster(bytes).expect_err("unreadable");
        assert_eq!(issues[0].reason, RosterReason::Unreadable);
    }

    #[test]
    fn excel_serial_dates_convert() {
        assert_eq!(
            excel_serial_date(45658.0),
            NaiveDate::from_ymd_opt(2025, 1, 1)
        );
        assert_eq!(cell_text(&Data::Float(13812345678.0)), "13812345678");
    }

    /// Found by fuzzing (`roster_xlsx`): a date-formatted cell holds any number, and one past
    /// chrono's range of dates panicked in the conversion.
    #[test]
    fn a_date_cell_out_of_range_is_no_date() {
        use calamine::{ExcelDateTime, ExcelDateTimeType};
        for serial in [1e9, -1e9, 1e300, f64::NAN, f64::INFINITY] {
            assert_eq!(excel_serial_date(serial), None, "{serial}");
            let cell = Data::DateTime(ExcelDateTime::new(
                serial,
                ExcelDateTimeType::DateTime,
                false,
            ));
            assert_eq!(cell_text(&cell), "");
        }
    }
}
