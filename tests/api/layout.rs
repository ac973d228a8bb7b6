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

/// Top-level module → the top-level modules its files name as `crate::…` outside comments.
fn import_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let tops: BTreeSet<String> = std::fs::read_dir(src)
        .expect("src")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let module = name.strip_suffix(".rs").unwrap_or(&name).to_owned();
            (!["lib", "main"].contains(&module.as_str())).then_some(module)
        })
        .collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> =
        tops.iter().map(|t| (t.clone(), BTreeSet::new())).collect();
    let mut pending = vec![src.to_path_buf()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let relative = path.strip_prefix(src).unwrap();
        let first = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let top = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
        let Some(edges) = graph.get_mut(&top) else {
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or("");
            for (at, _) in code.match_indices("crate::") {
                let name: String = code[at + 7..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if name != top && tops.contains(&name) {
                    edges.insert(name);
                }
            }
        }
    }
    graph
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
