//! `portcullis login-methods ...`: the users page's Login Methods from a shell on the
//! server. `login-methods local enable` is the break-glass: it restores password sign-in
//! when nobody can sign in through the providers any more (enabling never locks anyone out).

use crate::config::Config;
use crate::serve::open_db;
use clap::Subcommand;
use portcullis::ssr::providers;

#[derive(Debug, Subcommand)]
pub enum LoginMethodsCommand {
    /// Show which login methods are on.
    Show,
    /// Password (local) sign-in. `local enable` also turns auto-redirect off, so the
    /// password form shows again at /login.
    Local {
        #[command(subcommand)]
        switch: Switch,
    },
    /// Send /login straight to one enabled provider (its slug), or `off`. /login?choose
    /// always shows the page.
    AutoRedirect {
        /// A provider slug, or `off`.
        provider: String,
    },
    /// Who must have signed in with two factors to open applications (and, for
    /// administrators, these settings): `nobody` (only applications set to require it),
    /// `administrators` or `everyone`. `second-factor nobody` is the break-glass when
    /// administrators cannot give one.
    SecondFactor {
        #[arg(value_parser = ["nobody", "administrators", "everyone"])]
        requirement: String,
    },
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum Switch {
    /// Turn it on (always allowed).
    Enable,
    /// Turn it off (refused when it is the last way to sign in).
    Disable,
}

pub async fn login_methods(config: &Config, cmd: LoginMethodsCommand) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    let result = async {
        match cmd {
            LoginMethodsCommand::Show => {}
            LoginMethodsCommand::Local { switch } => {
                let on = matches!(switch, Switch::Enable);
                providers::set_local_login(&db, on, &portcullis::ssr::audit::Actor::cli())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                if on {
                    providers::set_auto_redirect(&db, None, &portcullis::ssr::audit::Actor::cli())
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    tracing::warn!("password sign-in turned on from the command line");
                }
            }
            LoginMethodsCommand::SecondFactor { requirement } => {
                let r = portcullis::second_factor::Requirement::parse(&requirement)
                    .ok_or_else(|| anyhow::anyhow!("choose nobody, administrators or everyone"))?;
                portcullis::ssr::settings::set_second_factor_requirement(
                    &db,
                    r,
                    &portcullis::ssr::audit::Actor::cli(),
                )
                .await?;
            }
            LoginMethodsCommand::AutoRedirect { provider } => {
                let target = (provider != "off").then_some(provider.as_str());
                providers::set_auto_redirect(&db, target, &portcullis::ssr::audit::Actor::cli())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
        }
        let m = providers::login_methods(&db).await?;
        let word = |on: bool| if on { "on" } else { "off" };
        println!("local (password) sign-in: {}", word(m.local));
        println!(
            "OpenID Connect sign-in: {} ({} enabled provider{})",
            word(m.oidc),
            m.enabled_providers,
            if m.enabled_providers == 1 { "" } else { "s" }
        );
        match providers::auto_redirect(&db).await? {
            Some(slug) => {
                println!("sign-in page goes straight to: {slug} (/login?choose shows it)")
            }
            None => println!("sign-in page goes straight to: nobody (auto-redirect off)"),
        }
        let r = portcullis::ssr::settings::second_factor_requirement(&db).await?;
        println!("second factor required of: {}", r.as_str());
        anyhow::Ok(())
    }
    .await;
    db.close().await;
    result
}
