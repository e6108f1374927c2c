//! Prints what `extract` finds in a text file (a development aid).
fn main() {
    let path = std::env::args().nth(1).expect("a file");
    let text = std::fs::read_to_string(path).expect("readable");
    for s in onrecord_extract::extract(&text, None).statements {
        println!(
            "{:?} {:?} | {:?} | {:?}",
            s.kind,
            s.quote,
            s.speaker.map(|p| (p.as_written, p.resolved, p.resolved_by)),
            s.unplaced
        );
    }
}
