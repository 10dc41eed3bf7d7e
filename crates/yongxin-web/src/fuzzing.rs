//! The checks the fuzz targets under `fuzz/` run for the parsers of outside input in this crate:
//! roster files, Open311 forms and the apartment picker's form. As in `yongxin_domain::fuzzing`, they live in the library so
//! that `cargo test` replays the committed corpus through the same code the fuzzers run.

use std::collections::HashMap;
use yongxin_store::HouseholdId;

use rust_xlsxwriter::{Format, Workbook};
use yongxin_domain::catalogue::default_catalogue;
use yongxin_domain::fuzzing::roster_rows;
use yongxin_domain::roster::{record_cells, Column, HouseholdRecord};
use yongxin_domain::{Email, Phone};

use crate::appeals::open311::parse_request_form;
use crate::http::sheet::{write_table, SheetFormat};
use crate::registry::roster_io::read_roster;

/// The targets whose checks are in this crate (name = corpus directory).
pub const TARGETS: &[yongxin_domain::fuzzing::Target] = &[
    ("roster_csv", roster_csv),
    ("roster_xlsx", roster_xlsx),
    ("open311_form", open311_form),
    ("picker_form", picker_form),
];

/// A roster upload read as CSV ([`read_roster`], then `roster::validate`): a roster that is
/// accepted, exported as the export writes it and imported again, gives the same households.
pub fn roster_csv(data: &[u8]) {
    roster_round_trip(data, SheetFormat::Csv);
}

/// A roster upload read as .xlsx. An input that is a zip archive is read as the file itself;
/// any other input describes a workbook, which is written and then read, so that the fuzzer
/// reaches the cell conversions (dates, numbers) without having to forge zip checksums: rows
/// are lines, cells are separated by tabs, and a cell `=n:<number>`, `=d:<number>` or `=b:<x>`
/// is written as a number, a number formatted as a date, or a boolean.
pub fn roster_xlsx(data: &[u8]) {
    if data.starts_with(b"PK") {
        roster_round_trip(data, SheetFormat::Xlsx);
    } else if let Some(book) = workbook(data) {
        roster_round_trip(&book, SheetFormat::Xlsx);
    }
}

/// The workbook [`roster_xlsx`] describes, or `None` where the writer refuses a cell.
fn workbook(data: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(data).ok()?;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (r, line) in text.lines().take(200).enumerate() {
        for (c, cell) in line.split('\t').take(30).enumerate() {
            let (r, c) = (u32::try_from(r).ok()?, u16::try_from(c).ok()?);
            let number = |s: &str| s.trim().parse::<f64>().ok();
            match cell.split_at_checked(3) {
                Some(("=n:", v)) => sheet.write_number(r, c, number(v)?).ok()?,
                Some(("=d:", v)) => sheet
                    .write_number_with_format(r, c, number(v)?, &date)
                    .ok()?,
                Some(("=b:", v)) => sheet.write_boolean(r, c, !v.is_empty()).ok()?,
                _ => sheet.write_string(r, c, cell).ok()?,
            };
        }
    }
    book.save_to_buffer().ok()
}

/// Reads and checks a roster; if it is accepted, writes its households as `format` the way the
/// export lays them out and checks that reading that back gives the same households.
fn roster_round_trip(data: &[u8], format: SheetFormat) {
    let Ok(rows) = read_roster(data) else { return };
    for r in &rows {
        assert!(r.row >= 2, "row numbers count the header as row 1");
    }
    let Some(households) = roster_rows(&rows) else {
        return;
    };
    let table = export(&households);
    let written = write_table(&table, format).unwrap_or_else(|e| panic!("{e}"));
    let rows = read_roster(&written).unwrap_or_else(|e| panic!("{e:?}"));
    let again = roster_rows(&rows);
    assert_eq!(again.as_ref(), Some(&households));
}

/// Households in the roster layout, with the labels [`yongxin_domain::fuzzing::roster_lookup`]
/// knows them by.
fn export(households: &[HouseholdRecord]) -> Vec<Vec<String>> {
    let mut table = vec![Column::ALL.iter().map(|c| c.header().to_owned()).collect()];
    for h in households {
        for m in &h.members {
            let mut cells: HashMap<Column, String> = record_cells(m).into_iter().collect();
            cells.insert(Column::HouseholdKey, h.key.clone());
            cells.insert(Column::Village, "东坞村".to_owned());
            let grid = if h.grid_id == 10 { "V01-G1" } else { "V01-G2" };
            cells.insert(Column::Grid, grid.to_owned());
            cells.insert(Column::Address, h.address.clone());
            table.push(
                Column::ALL
                    .iter()
                    .map(|c| cells.remove(c).unwrap_or_default())
                    .collect(),
            );
        }
    }
    table
}

/// An Open311 `POST requests` ([`parse_request_form`]): the body, and after a NUL byte the query
/// string. What is read is trimmed and non-empty, and goes through the checks intake makes
/// without a store (the category's answers, the phone, the e-mail) without panicking.
pub fn open311_form(data: &[u8]) {
    let (body, query) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let form = parse_request_form(body, query);
    for v in [form.api_key(), form.service_code()].into_iter().flatten() {
        assert!(!v.is_empty() && v.trim() == v);
    }
    let Ok(request) = form.details() else {
        return;
    };
    for values in request.answers.values() {
        assert!(values.iter().all(|v| !v.is_empty() && v.trim() == v));
    }
    if let Some(a) = &request.address {
        assert!(!a.is_empty() && a.trim() == a);
    }
    if let Some(phone) = &request.phone {
        let _ = Phone::parse(phone);
    }
    if let Some(email) = &request.email {
        let _ = Email::parse(email);
    }
    let code = form.service_code().unwrap_or_default();
    for category in default_catalogue() {
        if category.code == code || !category.questions.is_empty() {
            if let Ok(answers) = category.check_answers(&request.answers) {
                assert!(answers
                    .keys()
                    .all(|k| category.questions.iter().any(|q| &q.code == k)));
            }
        }
    }
}

/// The apartment picker's form or query string (`PickForm`, read as the handlers read it) laid out
/// over a fixed project of five buildings: whatever is sent, every unit ticked is available and
/// counted once, the area adds up, the page is one that exists, no more buildings are drawn than
/// a page holds, and the query of the view it shows reads back to the same view and ticks.
pub fn picker_form(data: &[u8]) {
    use crate::selection::picker::{arrange, CellState, PickForm, BUILDINGS_PER_PAGE};
    use yongxin_domain::money::Qty;
    let Ok(form) = serde_html_form::from_bytes::<PickForm>(data) else {
        return;
    };
    let _ = form.intent();
    let mut units = Vec::new();
    for (b, building) in ["1", "2", "10", "11", "12"].iter().enumerate() {
        for floor in 1..=4_i64 {
            for (n, (layout, area)) in [("C", 90), ("E", 130), ("A", 45)].iter().enumerate() {
                let id = (b as i64) * 100 + floor * 10 + n as i64;
                units.push(yongxin_store::UnitState {
                    id,
                    building: (*building).to_owned(),
                    building_name: format!("{building}号楼"),
                    number: format!("{floor}0{n}"),
                    floor,
                    layout: (*layout).to_owned(),
                    area: Qty::whole(*area),
                    // Every fifth unit sold to someone else, every seventh to this household.
                    owner_household_id: match id % 35 {
                        0 | 5 | 10 | 15 | 20 | 25 | 30 => Some(HouseholdId(99)),
                        7 | 14 | 21 | 28 => Some(HouseholdId(7)),
                        _ => None,
                    },
                    sold_at: None,
                });
            }
        }
    }
    let registered = vec!["C".to_owned(), "E".to_owned()];
    let p = arrange(
        units.clone(),
        Some((HouseholdId(7), Some(Qty::whole(250)))),
        registered,
        &form,
    );
    let mut ids: Vec<i64> = p.picked.iter().map(|u| u.id).collect();
    ids.sort_unstable();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "a tick counted twice");
    assert!(p.picked.iter().all(|u| u.owner_household_id.is_none()));
    assert_eq!(p.picked_area, p.picked.iter().map(|u| u.area).sum::<Qty>());
    assert!(p.pages >= 1 && (1..=p.pages).contains(&p.filter.page));
    assert!(p.grids.len() <= BUILDINGS_PER_PAGE);
    for cell in p.grids.iter().flat_map(|g| &g.floors).flat_map(|f| &f.1) {
        assert_eq!(
            cell.state == CellState::Picked,
            ids.binary_search(&cell.unit.id).is_ok()
        );
    }
    if let Ok(query) = form.query() {
        let again: PickForm = serde_html_form::from_str(&query).expect("the query reads back");
        let q = arrange(
            units,
            Some((HouseholdId(7), Some(Qty::whole(250)))),
            vec![],
            &again,
        );
        let mut back: Vec<i64> = q.picked.iter().map(|u| u.id).collect();
        back.sort_unstable();
        assert_eq!(back, ids, "{query}");
        assert_eq!(
            (
                q.filter.building,
                q.filter.floor,
                q.filter.layout,
                q.filter.page
            ),
            (
                p.filter.building.clone(),
                p.filter.floor,
                p.filter.layout.clone(),
                p.filter.page
            ),
            "{query}"
        );
    }
}
