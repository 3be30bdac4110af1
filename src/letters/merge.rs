//! Merging PDFs into one with lopdf, which has no merge API of its own.
//!
//! Each input's pages are copied with everything they reach (contents, resources, fonts,
//! images, annotations) and nothing else: catalogs, outlines, AcroForm, structure trees, named
//! destinations and metadata of the inputs are dropped, so real-world scanned authorizations
//! with odd catalogs cannot confuse viewers. Objects are renumbered per input, inherited page
//! attributes are copied onto each page first, and the result has one flat page tree and a
//! minimal catalog.

use std::collections::{BTreeMap, HashSet};

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::LetterError;
use super::inspect::load;

/// US Letter, for a page that inherits no MediaBox at all (invalid, but seen in the wild).
const DEFAULT_MEDIA_BOX: [i64; 4] = [0, 0, 612, 792];

/// Attributes a page may inherit from its ancestors (PDF 32000-1 §7.7.3.4).
const INHERITED: [&[u8]; 4] = [b"MediaBox", b"CropBox", b"Resources", b"Rotate"];

/// Keys of a page that point outside the page itself: the old tree and the old structure tree.
/// A temporary key that marks each page with its position while objects are renumbered.
const PAGE_INDEX: &[u8] = b"MedrecPageIndex";

const PAGE_KEYS_DROPPED: [&[u8]; 3] = [b"Parent", b"StructParents", b"B"];

/// Concatenates the pages of `pdfs`, in order, into one PDF.
pub fn merge(pdfs: &[&[u8]]) -> Result<Vec<u8>, LetterError> {
    if pdfs.is_empty() {
        return Err(LetterError::Write("nothing to merge".into()));
    }
    let mut out = Document::with_version("1.7");
    let pages_id: ObjectId = (1, 0);
    let mut next_id = 2;
    let mut kids = Vec::new();

    for (index, bytes) in pdfs.iter().enumerate() {
        let mut doc = load(bytes).map_err(|problem| LetterError::Merge { index, message: problem.to_string() })?;
        let page_ids: Vec<ObjectId> = doc.get_pages().into_values().collect();
        if page_ids.is_empty() {
            return Err(LetterError::Merge { index, message: "the PDF has no pages".into() });
        }
        for &id in &page_ids {
            let page = flatten_page(&doc, id);
            doc.objects.insert(id, Object::Dictionary(page));
        }
        // Renumbering rewrites every reference, so remember the pages by position.
        let order: BTreeMap<ObjectId, usize> = page_ids.iter().enumerate().map(|(i, &id)| (id, i)).collect();
        for (&id, &i) in &order {
            if let Ok(Object::Dictionary(d)) = doc.get_object_mut(id) {
                d.set(PAGE_INDEX, i as i64);
            }
        }
        doc.renumber_objects_with(next_id);
        next_id = doc.max_id + 1;

        let mut pages = vec![(0, 0); page_ids.len()];
        for (&id, object) in &doc.objects {
            if let Object::Dictionary(d) = object
                && let Ok(i) = d.get(PAGE_INDEX).and_then(Object::as_i64)
                && let Some(slot) = usize::try_from(i).ok().and_then(|i| pages.get_mut(i))
            {
                *slot = id;
            }
        }
        for id in reachable(&doc, &pages) {
            let Some(mut object) = doc.objects.remove(&id) else { continue };
            if let Object::Dictionary(d) = &mut object
                && d.has(PAGE_INDEX)
            {
                d.remove(PAGE_INDEX);
                d.set("Parent", pages_id);
            }
            out.objects.insert(id, object);
        }
        kids.extend(pages.into_iter().map(Object::Reference));
    }

    null_dangling_references(&mut out);
    let count = kids.len() as i64;
    out.objects.insert(
        pages_id,
        Object::Dictionary(Dictionary::from_iter([
            ("Type", Object::Name(b"Pages".to_vec())),
            ("Kids", Object::Array(kids)),
            ("Count", Object::Integer(count)),
        ])),
    );
    let catalog_id = (next_id, 0);
    out.objects.insert(
        catalog_id,
        Object::Dictionary(Dictionary::from_iter([
            ("Type", Object::Name(b"Catalog".to_vec())),
            ("Pages", Object::Reference(pages_id)),
        ])),
    );
    out.trailer.set("Root", catalog_id);
    out.max_id = next_id;
    let mut bytes = Vec::new();
    out.save_to(&mut bytes).map_err(|e| LetterError::Write(e.to_string()))?;
    Ok(bytes)
}

/// The page dictionary with its inherited attributes made its own and the keys that point
/// into the old document removed.
fn flatten_page(doc: &Document, id: ObjectId) -> Dictionary {
    let mut page = doc.get_dictionary(id).cloned().unwrap_or_default();
    for key in INHERITED {
        if let Some(value) = inherited(doc, id, key) {
            page.set(key, value);
        }
    }
    if !page.has(b"MediaBox") {
        page.set("MediaBox", DEFAULT_MEDIA_BOX.iter().map(|&v| Object::Integer(v)).collect::<Vec<_>>());
    }
    if !page.has(b"Resources") {
        page.set("Resources", Dictionary::new());
    }
    for key in PAGE_KEYS_DROPPED {
        page.remove(key);
    }
    page
}

/// The nearest value of `key` on the page or its ancestors; a null or dangling value counts as
/// absent. Bounded, so a cyclic `Parent` chain cannot hang us.
fn inherited(doc: &Document, page: ObjectId, key: &[u8]) -> Option<Object> {
    let mut current = page;
    for _ in 0..64 {
        let node = doc.get_dictionary(current).ok()?;
        if let Ok(value) = node.get(key) {
            match doc.dereference(value) {
                Ok((_, Object::Null)) | Err(_) => {}
                Ok((_, resolved)) => return Some(resolved.clone()),
            }
        }
        current = node.get(b"Parent").and_then(Object::as_reference).ok()?;
    }
    None
}

/// Every object the pages reach, not following page-tree parents.
fn reachable(doc: &Document, pages: &[ObjectId]) -> Vec<ObjectId> {
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut stack: Vec<ObjectId> = pages.to_vec();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        if let Some(object) = doc.objects.get(&id) {
            references(object, &mut |r| {
                if !seen.contains(&r) {
                    stack.push(r);
                }
            });
        }
    }
    seen.into_iter().filter(|id| doc.objects.contains_key(id)).collect()
}

fn references(object: &Object, found: &mut dyn FnMut(ObjectId)) {
    match object {
        Object::Reference(id) => found(*id),
        Object::Array(items) => items.iter().for_each(|o| references(o, found)),
        Object::Dictionary(d) => dictionary_references(d, found),
        Object::Stream(s) => dictionary_references(&s.dict, found),
        _ => {}
    }
}

fn dictionary_references(d: &Dictionary, found: &mut dyn FnMut(ObjectId)) {
    let is_tree_node = matches!(d.get(b"Type").and_then(Object::as_name), Ok(b"Page" | b"Pages"));
    for (key, value) in d.iter() {
        // An annotation's /P and a page's /Parent lead back into the old page tree.
        if is_tree_node && key == b"Parent" {
            continue;
        }
        references(value, found);
    }
}

/// A reference to an object we did not copy (the old catalog, a missing object) becomes null,
/// which is what a reader makes of it anyway, so the output has no dangling references.
fn null_dangling_references(doc: &mut Document) {
    let present: HashSet<ObjectId> = doc.objects.keys().copied().chain([(1, 0)]).collect();
    for object in doc.objects.values_mut() {
        replace_dangling(object, &present);
    }
}

fn replace_dangling(object: &mut Object, present: &HashSet<ObjectId>) {
    match object {
        Object::Reference(id) if !present.contains(id) => *object = Object::Null,
        Object::Array(items) => items.iter_mut().for_each(|o| replace_dangling(o, present)),
        Object::Dictionary(d) => d.iter_mut().for_each(|(_, o)| replace_dangling(o, present)),
        Object::Stream(s) => s.dict.iter_mut().for_each(|(_, o)| replace_dangling(o, present)),
        _ => {}
    }
}
