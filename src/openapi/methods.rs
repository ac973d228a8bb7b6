//! Which methods each documented path answers, read from the document itself, so that a
//! request with another method gets 405 and an `Allow` header instead of a 404.

use utoipa::openapi::OpenApi;

/// The documented paths as segment templates (`{id}` matches any one segment), each with
/// the methods it declares, upper case.
#[derive(Debug, Default)]
pub struct AllowedMethods {
    paths: Vec<(Vec<Segment>, Vec<&'static str>)>,
}

#[derive(Debug, PartialEq)]
enum Segment {
    Literal(String),
    Any,
}

impl AllowedMethods {
    pub fn from_document(doc: &OpenApi) -> Self {
        let paths = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ]
                .into_iter()
                .filter_map(|(method, declared)| declared.then_some(method))
                .collect();
                (segments(path), methods)
            })
            .collect();
        Self { paths }
    }

    /// The methods declared for `path`, or `None` when the document has no such path.
    pub fn for_path(&self, path: &str) -> Option<String> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut allowed: Vec<&str> = Vec::new();
        let matching: Vec<_> = self
            .paths
            .iter()
            .filter(|(template, _)| {
                template.len() == parts.len()
                    && template
                        .iter()
                        .zip(&parts)
                        .all(|(segment, part)| match segment {
                            Segment::Any => !part.is_empty(),
                            Segment::Literal(text) => text == part,
                        })
            })
            .collect();
        // A path named in words shadows a template that would take the word for an id
        // (`/statements/verify`, not `/statements/{id}`).
        let literals = |template: &[Segment]| {
            template
                .iter()
                .filter(|s| matches!(s, Segment::Literal(_)))
                .count()
        };
        let most = matching.iter().map(|(t, _)| literals(t)).max().unwrap_or(0);
        let matching = matching.into_iter().filter(|(t, _)| literals(t) == most);
        for method in matching.flat_map(|(_, methods)| methods) {
            if !allowed.contains(method) {
                allowed.push(method);
            }
        }
        (!allowed.is_empty()).then(|| allowed.join(", "))
    }
}

fn segments(path: &str) -> Vec<Segment> {
    path.trim_start_matches('/')
        .split('/')
        .map(|part| {
            if part.starts_with('{') && part.ends_with('}') {
                Segment::Any
            } else {
                Segment::Literal(part.to_owned())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_documented_path_gives_its_methods_and_others_none() {
        let allowed = AllowedMethods::from_document(&crate::openapi::document());
        assert_eq!(
            allowed.for_path("/api/v1/villages/7/claims").as_deref(),
            Some("GET, POST")
        );
        assert_eq!(
            allowed.for_path("/api/v1/claims/3/approve").as_deref(),
            Some("POST")
        );
        assert_eq!(allowed.for_path("/api/v1/claims//approve"), None);
        assert_eq!(allowed.for_path("/api/v1/nothing"), None);
    }
}
