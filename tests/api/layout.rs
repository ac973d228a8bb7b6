//! The import graph between the top-level folders of `src/` (issue 12, point 3): no two
//! folders import each other, directly or round a circle, so dependencies point one way
//! (ARCHITECTURE.md).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[test]
fn no_import_circle_between_top_level_folders() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = import_graph(&src);
    let circles: Vec<Vec<String>> = strongly_connected(&graph)
        .into_iter()
        .filter(|component| component.len() > 1)
        .collect();
    assert!(
        circles.is_empty(),
        "folders importing each other in a circle: {circles:?}; the graph is {graph:#?}"
    );
}

/// The ledger is the bottom of the domain: claims, shop, books and reports use it, it
/// uses none of them (nor sign-in, the audit trail or HTTP), only the database layer and
/// the plain helpers every folder shares.
#[test]
fn the_ledger_depends_on_nothing_above_the_database() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = import_graph(&src);
    let below: BTreeSet<String> = ["db", "error", "amount", "clock", "date", "paging", "text"]
        .iter()
        .map(|m| (*m).to_owned())
        .collect();
    let above: Vec<&String> = graph["ledger"].difference(&below).collect();
    assert!(above.is_empty(), "the ledger imports {above:?}");
}

/// Every `.rs` file under `src/` with the top-level module it belongs to (`db` for
/// `src/db/fault.rs`, `api` for `src/api.rs`); `lib.rs` and `main.rs` belong to none.
fn sources(src: &Path) -> Vec<(String, String)> {
    crate::support::rust_files(src)
        .into_iter()
        .filter_map(|path| {
            let relative = path.strip_prefix(src).unwrap();
            let first = relative
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy();
            let top = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
            (!["lib", "main"].contains(&top.as_str()))
                .then(|| (top, std::fs::read_to_string(&path).unwrap()))
        })
        .collect()
}

/// The code of a line, without its comment.
fn code(line: &str) -> &str {
    line.split("//").next().unwrap_or("")
}

/// Top-level module → the top-level modules its files name as `crate::…` outside comments.
fn import_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files = sources(src);
    let tops: BTreeSet<String> = files.iter().map(|(top, _)| top.clone()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> =
        tops.iter().map(|t| (t.clone(), BTreeSet::new())).collect();
    for (top, text) in &files {
        let edges = graph.get_mut(top).unwrap();
        for line in text.lines().map(code) {
            for (at, _) in line.match_indices("crate::") {
                let name: String = line[at + 7..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if &name != top && tops.contains(&name) {
                    edges.insert(name);
                }
            }
        }
    }
    graph
}

/// Each table is written (inserted into, updated, deleted from) by one top-level folder
/// only: the others ask that folder's service.
#[test]
fn each_table_has_one_writer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut writers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (top, text) in sources(&src) {
        // Other names for a table: `use crate::db::schema::sign_in_counters as c;` writes
        // `c::table`, `let target = accounts::table.filter(…)` writes `target`.
        let mut aliases = BTreeMap::new();
        for line in text.lines().map(code) {
            for part in line.split([',', '{', '}', ';']) {
                if let Some((table, alias)) = part.trim().split_once(" as ") {
                    aliases.insert(alias.trim().to_owned(), table.trim().to_owned());
                }
            }
            if let Some((name, value)) = line
                .trim()
                .strip_prefix("let ")
                .and_then(|l| l.split_once(" = "))
                && let Some((table, _)) = value.split_once("::table")
            {
                aliases.insert(name.trim().to_owned(), table.trim().to_owned());
            }
        }
        let text: String = text.lines().map(code).collect::<Vec<_>>().join("\n");
        for verb in ["insert_into(", "diesel::update(", "diesel::delete("] {
            for (at, _) in text.match_indices(verb) {
                let name: String = text[at + verb.len()..]
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let table = aliases.get(&name).cloned().unwrap_or(name);
                writers.entry(table).or_default().insert(top.clone());
            }
        }
    }
    assert!(
        writers.len() > 30,
        "the scan found too few tables: {writers:?}"
    );
    let shared: Vec<_> = writers.iter().filter(|(_, w)| w.len() > 1).collect();
    assert!(
        shared.is_empty(),
        "tables with more than one writer: {shared:?}"
    );
}

/// The strongly connected components (each sorted), by repeated reachability: the graph
/// has a few dozen nodes.
fn strongly_connected(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut pending = vec![from.to_owned()];
        while let Some(node) = pending.pop() {
            for next in &graph[&node] {
                if seen.insert(next.clone()) {
                    pending.push(next.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|k| (k, reach(k))).collect();
    let mut placed = BTreeSet::new();
    let mut components = Vec::new();
    for node in graph.keys() {
        if placed.contains(node) {
            continue;
        }
        let mut component = vec![node.clone()];
        component.extend(
            reachable[node]
                .iter()
                .filter(|other| *other != node && reachable[*other].contains(node))
                .cloned(),
        );
        component.sort();
        placed.extend(component.iter().cloned());
        components.push(component);
    }
    components
}
