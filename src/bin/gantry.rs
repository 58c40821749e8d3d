fn main() {
    println!("gantry {}", env!("CARGO_PKG_VERSION"));
}
