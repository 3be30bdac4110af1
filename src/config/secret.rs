//! Secrets (passwords, API keys) come from a file (e.g. a systemd credential) or an environment
//! variable named in the config, never from the config file itself. They are read when the
//! daemon starts and held as [`SecretString`], whose `Debug` prints `[REDACTED]`.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use secrecy::SecretString;

/// Where a secret is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    File(PathBuf),
    Env(String),
}

impl std::fmt::Display for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::File(p) => write!(f, "file {}", p.display()),
            SecretSource::Env(v) => write!(f, "environment variable {v}"),
        }
    }
}

impl SecretSource {
    /// Reads the secret: the file's first line, or the variable's value.
    pub fn load(&self) -> Result<SecretString, String> {
        let value = match self {
            SecretSource::File(path) => {
                let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                if meta.permissions().mode() & 0o004 != 0 {
                    return Err(format!(
                        "{} is readable by every user; make it private (chmod 600, or a systemd credential)",
                        path.display()
                    ));
                }
                let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                text.lines().next().unwrap_or("").to_string()
            }
            SecretSource::Env(var) => {
                // The shell's one place to read the environment for secrets.
                #[allow(clippy::disallowed_methods)]
                let value = std::env::var(var);
                value.map_err(|_| format!("environment variable {var} is not set"))?
            }
        };
        if value.trim().is_empty() {
            return Err(format!("the secret in {self} is empty"));
        }
        Ok(SecretString::from(value))
    }
}
