//! `wasm-bundle [--debug] [--no-split] <input.wasm> <out dir> <name>`: turns the compiled
//! browser crate into what the site serves under `/pkg`.
//!
//! 1. **Split** (`wasm_split_cli_support`, the splitter cargo-leptos runs): every `#[lazy]`
//!    function (the editors' parts that render views: the icon picker, the logo's preview,
//!    Test connection's report) becomes a module of its own, fetched when first used, with
//!    the modules it shares with other parts as `chunk_*.wasm` and their loader,
//!    `__wasm_split.js`. `<out dir>/split.json` lists, for each lazy part, the files it needs
//!    besides the main module, in load order (printed too: what each part costs when first
//!    used). `--no-split` skips this step for a module without lazy parts (the benchmark's
//!    example).
//! 2. **Bind** (`wasm_bindgen_cli_support`): the main module's JavaScript glue,
//!    `<name>.js`, for the `web` target, keeping the exports the split modules link against.
//!    The module is written as `<name>.wasm`, the name Leptos's hydration script loads.
//!
//! The split needs the crate linked with its relocations (`-Clink-args=--emit-relocs`,
//! `.cargo/config.toml`).
use anyhow::{Context, Result, anyhow, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

struct Args {
    debug: bool,
    split: bool,
    input: PathBuf,
    out_dir: PathBuf,
    name: String,
}

fn args() -> Result<Args> {
    let usage = "usage: wasm-bundle [--debug] [--no-split] <input.wasm> <out dir> <name>";
    let (mut debug, mut split, mut positional) = (false, true, Vec::new());
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--debug" => debug = true,
            "--no-split" => split = false,
            flag if flag.starts_with('-') => bail!("unknown option {flag}\n{usage}"),
            _ => positional.push(arg),
        }
    }
    let [input, out_dir, name] = <[String; 3]>::try_from(positional).map_err(|_| anyhow!(usage))?;
    Ok(Args {
        debug,
        split,
        input: input.into(),
        out_dir: out_dir.into(),
        name,
    })
}

/// Splits `input` into `out_dir`, the main module as `main`; writes `split.json`.
fn split(input: &Path, out_dir: &Path, main: &Path, name: &str) -> Result<()> {
    let wasm = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    let main_module = format!("./{name}.js");
    let mut options = wasm_split_cli_support::Options::new(&wasm);
    options.output_dir = out_dir;
    options.main_out_path = main;
    options.main_module = &main_module;
    options.target.web();
    // eyre's report, as text: one error type in this tool.
    let split =
        wasm_split_cli_support::transform(options).map_err(|e| anyhow!("wasm-split: {e:?}"))?;
    let files: BTreeMap<String, Vec<String>> = split
        .prefetch_map
        .into_iter()
        .map(|(part, stems)| (part, stems.into_iter().map(|stem| stem + ".wasm").collect()))
        .collect();
    std::fs::write(
        out_dir.join("split.json"),
        serde_json::to_vec_pretty(&files)?,
    )?;
    for (part, files) in &files {
        println!("  {part}: {}", files.join(" "));
    }
    Ok(())
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
        .with_writer(std::io::stderr)
        .init();
    let Args {
        debug,
        split: splits,
        input,
        out_dir,
        name,
    } = args()?;
    std::fs::create_dir_all(&out_dir)?;
    let main = out_dir.join(format!("{name}.wasm"));
    if splits {
        split(&input, &out_dir, &main, &name)?;
    }
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(if splits { &main } else { &input })
        .web(true)?
        .debug(debug)
        .typescript(false)
        // As the `wasm-bindgen` command does: the glue also names the module's default path.
        .omit_default_module_path(false)
        .keep_lld_exports(splits)
        .out_name(&name)
        .generate(&out_dir)?;
    std::fs::rename(out_dir.join(format!("{name}_bg.wasm")), &main)?;
    Ok(())
}
