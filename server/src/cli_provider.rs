//! `portcullis provider ...` and `portcullis oidc ...`: the settings page's rules, from a
//! shell. Providers added here appear in the UI and the other way round (one database).

use crate::cli::{
    OidcCommand, ProviderCommand, ProviderFields, field_errors, merge_flags, print_list,
    read_stdin_line,
};
use crate::config::Config;
use crate::serve::open_db;
use anyhow::{Context, bail};
use portcullis::field::FieldError;
use portcullis::provider::{IssuerPolicy, Mode, ProviderDraft};
use portcullis::ssr::providers::{self, ProviderError};

impl ProviderFields {
    /// Applies the given flags over `draft`.
    fn apply(self, draft: &mut ProviderDraft) -> anyhow::Result<()> {
        if self.client_secret_stdin {
            draft.client_secret = read_stdin_line("client secret")?;
        }
        *draft = merge_flags(draft, &self)?;
        Ok(())
    }
}

fn explain(e: ProviderError) -> anyhow::Error {
    match e {
        ProviderError::Db(e) => anyhow::Error::new(e).context("database"),
        // Names the flag that gives the secret (the stored one was for the old values).
        ProviderError::SecretAgain => field_errors(
            "provider",
            &[FieldError::new(
                "client_secret_stdin",
                portcullis::provider::SECRET_AGAIN,
            )],
        ),
        other => anyhow::anyhow!("{other}"),
    }
}

pub async fn provider(config: &Config, cmd: ProviderCommand) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    let policy = IssuerPolicy {
        allow_insecure: config.allow_insecure_issuers,
    };
    match cmd {
        ProviderCommand::Add { slug, fields } => {
            if !fields.client_secret_stdin {
                bail!("--client-secret-stdin is required: a new provider needs its client secret");
            }
            let secrets = config.secrets()?;
            let mut draft = ProviderDraft::new_default();
            draft.slug = slug.unwrap_or_default();
            fields.apply(&mut draft)?;
            draft.http_image_origin = config.http_image_origin();
            let valid = draft
                .validate(Mode::Create, policy)
                .map_err(|e| field_errors("provider", &e))?;
            let view =
                providers::create(&db, &secrets, &valid, &portcullis::ssr::audit::Actor::cli())
                    .await
                    .map_err(explain)?;
            println!("added provider {} ({})", view.slug, view.name);
        }
        ProviderCommand::Update { slug, fields } => {
            let secrets = config.secrets()?;
            let existing = providers::get_view(&db, &slug)
                .await?
                .with_context(|| format!("no provider has the slug \"{slug}\""))?;
            let mut draft = existing.draft();
            fields.apply(&mut draft)?;
            draft.http_image_origin = config.http_image_origin();
            let valid = draft
                .validate(Mode::Update, policy)
                .map_err(|e| field_errors("provider", &e))?;
            let view = providers::update(
                &db,
                &secrets,
                &slug,
                &valid,
                &portcullis::ssr::audit::Actor::cli(),
            )
            .await
            .map_err(explain)?;
            println!("updated provider {} ({})", view.slug, view.name);
        }
        ProviderCommand::Remove { slug } => {
            let links = providers::delete(&db, &slug, &portcullis::ssr::audit::Actor::cli())
                .await
                .map_err(explain)?;
            println!("removed provider {slug} and {links} linked account(s)");
        }
        ProviderCommand::List { json } => {
            let list: Vec<_> = providers::list(&db)
                .await?
                .into_iter()
                .map(|p| p.with_redirect_uri(&config.public_url()))
                .collect();
            let headers = ["SLUG", "NAME", "ENABLED", "LINKS", "ISSUER", "REDIRECT URI"];
            print_list(json, &list, &headers, |p| {
                let counts = (
                    p.settings.enabled.to_string(),
                    p.linked_accounts.to_string(),
                );
                let redirect = portcullis::provider::redirect_uri(&config.public_url(), &p.slug);
                let (name, issuer) = (p.name.clone(), p.issuer_url.clone());
                vec![p.slug.clone(), name, counts.0, counts.1, issuer, redirect]
            })?;
        }
    }
    db.close().await;
    Ok(())
}

pub async fn oidc(config: &Config, cmd: OidcCommand) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    let on = matches!(cmd, OidcCommand::Enable);
    providers::set_oidc_enabled(&db, on, &portcullis::ssr::audit::Actor::cli())
        .await
        .map_err(explain)?;
    println!(
        "OpenID Connect sign-in is {}",
        if on { "on" } else { "off" }
    );
    db.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::SettingsFlags;
    use clap::{Args, Command};
    use portcullis::provider::{ProviderSettings, Typed};

    /// Every setting has its flag, named as the setting (`merge_flags` maps them by name), and
    /// no flag names something that is not a setting.
    #[test]
    fn every_setting_has_its_flag() {
        let cmd = SettingsFlags::augment_args(Command::new("provider"));
        let mut flags: Vec<&str> = cmd.get_arguments().map(|a| a.get_id().as_str()).collect();
        let mut names = ProviderSettings::<Typed>::NAMES.to_vec();
        flags.sort_unstable();
        names.sort_unstable();
        assert_eq!(flags, names);
    }

    #[test]
    fn given_flags_replace_their_settings_and_the_rest_stay() {
        let before = ProviderSettings::<Typed>::new_default();
        let flags = SettingsFlags {
            enabled: Some(false),
            groups_claim: Some(String::new()),
            auth_params: Some(vec![
                "prompt=select_account".into(),
                "hd=example.com".into(),
            ]),
            ..SettingsFlags::default()
        };
        let after = merge_flags(&before, &flags).unwrap();
        assert!(!after.enabled);
        assert_eq!(after.groups_claim, "");
        assert_eq!(after.auth_params, "prompt=select_account\nhd=example.com");
        assert_eq!(after.scopes, before.scopes, "not given: kept");
        assert_eq!(after.sign_out_at_provider, before.sign_out_at_provider);
        let nothing = merge_flags(&after, &SettingsFlags::default()).unwrap();
        assert_eq!(nothing, after);
    }
}
