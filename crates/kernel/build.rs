// The migrations are embedded by `sqlx::migrate!`, which only notices edits to files it
// already knows: rebuild the kernel whenever the migrations folder changes (a new file).
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
