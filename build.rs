//! Embeds the browser code handover serves itself (GraphiQL, React, the graphql-ws client) in
//! the binary, so `/graphiql` and `/console` work after `cargo run` with no other step and load
//! nothing from a CDN. The packages are the ones pinned in `web/embedded/package-lock.json`;
//! npm installs them into the build's own output directory (not the source tree) when the lock
//! file changes. Without npm (or without the registry) the build still succeeds, with a warning,
//! and the pages say what to install.

use std::path::{Path, PathBuf};
use std::process::Command;

/// (name in our URL, path in the npm tree, content type)
const ASSETS: [(&str, &str, &str); 5] = [
    ("react.js", "react/umd/react.production.min.js", "text/javascript"),
    (
        "react-dom.js",
        "react-dom/umd/react-dom.production.min.js",
        "text/javascript",
    ),
    ("graphiql.js", "graphiql/graphiql.min.js", "text/javascript"),
    ("graphiql.css", "graphiql/graphiql.min.css", "text/css"),
    ("graphql-ws.js", "graphql-ws/umd/graphql-ws.min.js", "text/javascript"),
];

fn main() {
    let source = Path::new("web/embedded");
    println!("cargo:rerun-if-changed=web/embedded/package.json");
    println!("cargo:rerun-if-changed=web/embedded/package-lock.json");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let tree = out.join("embedded");
    let modules = tree.join("node_modules");

    let embedded = match install(source, &tree) {
        Ok(()) => {
            let entries: Vec<String> = ASSETS
                .iter()
                .map(|(name, path, content_type)| {
                    format!(
                        "    ({name:?}, {content_type:?}, include_bytes!({:?})),",
                        modules.join(path)
                    )
                })
                .collect();
            format!("Some(&[\n{}\n])", entries.join("\n"))
        }
        Err(why) => {
            println!("cargo:warning=GraphiQL and the console are not embedded: {why}");
            "None".to_string()
        }
    };
    let code = format!(
        "/// (name, content type, bytes) of each embedded asset; `None` when the build had no npm.\n\
         pub const EMBEDDED: Option<&[(&str, &str, &[u8])]> = {embedded};\n"
    );
    std::fs::write(out.join("embedded_assets.rs"), code).expect("write embedded_assets.rs");
}

/// `npm ci` into `tree` unless it already holds the install of this very lock file.
fn install(source: &Path, tree: &Path) -> Result<(), String> {
    let lock = std::fs::read(source.join("package-lock.json")).map_err(|e| format!("web/embedded: {e}"))?;
    let installed = tree.join("installed.lock");
    let complete = |tree: &Path| {
        ASSETS
            .iter()
            .all(|(_, path, _)| tree.join("node_modules").join(path).is_file())
    };
    if std::fs::read(&installed).ok().as_deref() == Some(&lock[..]) && complete(tree) {
        return Ok(());
    }
    std::fs::create_dir_all(tree).map_err(|e| e.to_string())?;
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(source.join(file), tree.join(file)).map_err(|e| format!("{file}: {e}"))?;
    }
    let status = Command::new("npm")
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(tree)
        .status()
        .map_err(|e| format!("npm could not be run ({e}); install Node.js and npm, then build again"))?;
    if !status.success() {
        return Err(format!(
            "`npm ci` failed ({status}); check that the npm registry is reachable, then build again"
        ));
    }
    if !complete(tree) {
        return Err("the npm packages lack an expected file".into());
    }
    std::fs::write(installed, lock).map_err(|e| e.to_string())
}
