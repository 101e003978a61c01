//! Rebuilds when a migration is added: `embed!` embeds each file it found with `include_str!`, which
//! tracks edits to those files, but Cargo cannot know about a new file in the folder without this.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
