//! Files the description mounts into pods (`config`): how an env file reads,
//! and the content-hashed name of the ConfigMap a file becomes.

use sha2::{Digest, Sha256};

/// The name of the ConfigMap holding config `config` of app `app`, suffixed
/// with a hash of its content: a changed file is a new ConfigMap, so the
/// pod template changes and the pods roll (SPEC §4).
pub fn config_map_name(app: &str, config: &str, content: &str) -> String {
    let digest = Sha256::digest(content.as_bytes());
    let hash: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    format!("{app}-{config}-{hash}")
}

/// The key a config file is stored under in its ConfigMap: its file name.
pub fn config_key(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A line of an env file that is not `KEY=value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvFileError {
    /// The line, from 1.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Reads an env file as kustomize's `envs` and `docker --env-file` do:
/// `KEY=value` lines, blank lines and `#` comments skipped, the value taken
/// as written (no quotes removed, no expansion). Keys are sorted; a key
/// given twice is an error.
pub fn parse_env_file(text: &str) -> Result<Vec<(String, String)>, EnvFileError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((key, value)) = trimmed.split_once('=') else {
            return Err(EnvFileError { line: line_no, message: format!("`{trimmed}` is not `KEY=value`") });
        };
        let key = key.trim_end();
        let valid = !key.is_empty()
            && !key.starts_with(|c: char| c.is_ascii_digit())
            && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid {
            return Err(EnvFileError { line: line_no, message: format!("`{key}` is not a variable name") });
        }
        if pairs.iter().any(|(k, _)| k == key) {
            return Err(EnvFileError { line: line_no, message: format!("`{key}` is given twice") });
        }
        pairs.push((key.to_string(), value.to_string()));
    }
    pairs.sort();
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_change_with_content_only() {
        let a = config_map_name("web", "settings", "a: 1\n");
        assert_eq!(a, config_map_name("web", "settings", "a: 1\n"));
        assert_ne!(a, config_map_name("web", "settings", "a: 2\n"));
        assert!(a.starts_with("web-settings-") && a.len() == "web-settings-".len() + 10, "{a}");
    }

    #[test]
    fn env_files_read_like_docker() {
        let pairs = parse_env_file("# comment\n\nLOG_LEVEL=debug\nURL=http://x?a=b\n").unwrap();
        assert_eq!(pairs, vec![("LOG_LEVEL".into(), "debug".into()), ("URL".into(), "http://x?a=b".into())]);
        assert_eq!(parse_env_file("A=1\nnope\n").unwrap_err().line, 2);
        assert!(parse_env_file("1A=x").is_err());
        assert!(parse_env_file("A=1\nA=2").unwrap_err().message.contains("twice"));
    }

    #[test]
    fn the_key_is_the_file_name() {
        assert_eq!(config_key("config/jellyfin.xml"), "jellyfin.xml");
        assert_eq!(config_key("app.yaml"), "app.yaml");
    }
}
