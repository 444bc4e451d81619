//! A directed graph of sibling modules with the references behind each edge, and its cycles
//! (strongly connected components of more than one module, Tarjan's algorithm).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// One reference: where it is written and the path as written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Site {
    pub file: String,
    pub line: usize,
    pub path: String,
}

/// Edges between the children of one module, each with the references that make it.
#[derive(Debug, Default)]
pub struct Graph {
    pub edges: BTreeMap<String, BTreeMap<String, BTreeSet<Site>>>,
}

impl Graph {
    pub fn add(&mut self, from: &str, to: &str, site: Site) {
        self.edges
            .entry(from.to_string())
            .or_default()
            .entry(to.to_string())
            .or_default()
            .insert(site);
    }

    fn targets(&self, node: &str) -> impl Iterator<Item = &String> {
        self.edges.get(node).into_iter().flat_map(|m| m.keys())
    }

    /// Every strongly connected component with more than one member, members sorted.
    pub fn components(&self) -> Vec<Vec<String>> {
        let mut nodes: BTreeSet<&String> = self.edges.keys().collect();
        nodes.extend(self.edges.values().flat_map(|m| m.keys()));
        let mut state = Tarjan::default();
        for node in nodes {
            if !state.index.contains_key(node.as_str()) {
                state.visit(self, node);
            }
        }
        let mut found: Vec<Vec<String>> = state
            .components
            .into_iter()
            .filter(|c| c.len() > 1)
            .map(|mut c| {
                c.sort();
                c
            })
            .collect();
        found.sort();
        found
    }

    /// A shortest cycle through the component's first member, staying inside the component:
    /// `[a, b, c, a]`.
    pub fn shortest_cycle(&self, component: &[String]) -> Vec<String> {
        let inside: BTreeSet<&str> = component.iter().map(String::as_str).collect();
        let Some(start) = component.first() else {
            return Vec::new();
        };
        let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = VecDeque::from([start.as_str()]);
        while let Some(node) = queue.pop_front() {
            for next in self.targets(node) {
                if next == start {
                    let mut cycle = vec![start.clone()];
                    let mut at = node;
                    while at != start {
                        cycle.push(at.to_string());
                        at = previous[at];
                    }
                    cycle.push(start.clone());
                    cycle.reverse();
                    return cycle;
                }
                if inside.contains(next.as_str()) && !previous.contains_key(next.as_str()) {
                    previous.insert(next, node);
                    queue.push_back(next);
                }
            }
        }
        Vec::new()
    }

    /// The edges between members of `component`.
    pub fn edges_within<'g>(
        &'g self,
        component: &'g [String],
    ) -> impl Iterator<Item = (&'g str, &'g str, &'g BTreeSet<Site>)> {
        self.edges
            .iter()
            .filter(|(from, _)| component.contains(from))
            .flat_map(move |(from, tos)| {
                tos.iter()
                    .filter(|(to, _)| component.contains(to))
                    .map(move |(to, sites)| (from.as_str(), to.as_str(), sites))
            })
    }
}

#[derive(Default)]
struct Tarjan<'g> {
    index: BTreeMap<&'g str, usize>,
    low: BTreeMap<&'g str, usize>,
    stack: Vec<&'g str>,
    on_stack: BTreeSet<&'g str>,
    components: Vec<Vec<String>>,
}

impl<'g> Tarjan<'g> {
    fn visit(&mut self, graph: &'g Graph, node: &'g str) {
        let n = self.index.len();
        self.index.insert(node, n);
        self.low.insert(node, n);
        self.stack.push(node);
        self.on_stack.insert(node);
        for next in graph.targets(node) {
            let next = next.as_str();
            if !self.index.contains_key(next) {
                self.visit(graph, next);
                let low = self.low[node].min(self.low[next]);
                self.low.insert(node, low);
            } else if self.on_stack.contains(next) {
                let low = self.low[node].min(self.index[next]);
                self.low.insert(node, low);
            }
        }
        if self.low[node] == self.index[node] {
            let mut component = Vec::new();
            while let Some(top) = self.stack.pop() {
                self.on_stack.remove(top);
                component.push(top.to_string());
                if top == node {
                    break;
                }
            }
            self.components.push(component);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &str)]) -> Graph {
        let mut g = Graph::default();
        for (i, (a, b)) in edges.iter().enumerate() {
            let site = Site {
                file: format!("{a}.rs"),
                line: i + 1,
                path: format!("crate::{b}"),
            };
            g.add(a, b, site);
        }
        g
    }

    #[test]
    fn a_dag_has_no_components() {
        let g = graph(&[("a", "b"), ("b", "c"), ("a", "c"), ("d", "a")]);
        assert!(g.components().is_empty());
    }

    #[test]
    fn cycles_are_found_with_their_members() {
        let g = graph(&[
            ("a", "b"),
            ("b", "c"),
            ("c", "a"),
            ("c", "d"),
            ("d", "e"),
            ("e", "d"),
            ("f", "a"),
        ]);
        assert_eq!(
            g.components(),
            vec![vec!["a", "b", "c"], vec!["d", "e"]]
                .into_iter()
                .map(|c| c.into_iter().map(String::from).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_shortest_cycle_stays_in_its_component() {
        let g = graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("b", "a"), ("a", "x")]);
        let component: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(g.shortest_cycle(&component), ["a", "b", "a"]);
        let within: Vec<(&str, &str)> =
            g.edges_within(&component).map(|(a, b, _)| (a, b)).collect();
        assert_eq!(within, [("a", "b"), ("b", "a"), ("b", "c"), ("c", "a")]);
    }
}
