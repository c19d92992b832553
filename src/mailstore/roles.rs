//! Which folder is Sent, which is Trash: from SPECIAL-USE (RFC 6154), else from well-known
//! names in many languages, with or without an `INBOX.` prefix; a user's choice wins.

use super::FolderInfo;

/// A folder's job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Sent,
    Trash,
    Drafts,
    Junk,
    Archive,
    All,
}

/// Names people and servers give these folders, compared case-insensitively after the
/// modified-UTF-7 decoding and without an `INBOX.`/`INBOX/` prefix. Ordered by preference.
const SENT_NAMES: &[&str] = &[
    "Sent",
    "Sent Items",
    "Sent Messages",
    "Sent Mail",
    "[Gmail]/Sent Mail",
    "[Google Mail]/Sent Mail",
    "Gesendet",
    "Gesendete Elemente",
    "Gesendete Objekte",
    "Gesendete Nachrichten",
    "Envoyés",
    "Éléments envoyés",
    "Messages envoyés",
    "Enviados",
    "Elementos enviados",
    "Itens Enviados",
    "Mensagens Enviadas",
    "Posta inviata",
    "Inviati",
    "Elementi inviati",
    "Verzonden",
    "Verzonden items",
    "Verzonden berichten",
    "Skickat",
    "Skickade objekt",
    "Sendt",
    "Sendte elementer",
    "Lähetetyt",
    "Wysłane",
    "Elementy wysłane",
    "Odeslaná pošta",
    "Отправленные",
    "送信済みアイテム",
    "送信済みメール",
    "送信済み",
    "已发送",
    "已发送邮件",
    "寄件備份",
];

const TRASH_NAMES: &[&str] = &[
    "Trash",
    "Deleted Items",
    "Deleted Messages",
    "Deleted",
    "Bin",
    "[Gmail]/Trash",
    "[Gmail]/Bin",
    "[Google Mail]/Trash",
    "[Google Mail]/Bin",
    "Papierkorb",
    "Gelöschte Elemente",
    "Gelöschte Objekte",
    "Corbeille",
    "Éléments supprimés",
    "Papelera",
    "Elementos eliminados",
    "Lixeira",
    "Lixo",
    "Itens Excluídos",
    "Cestino",
    "Posta eliminata",
    "Elementi eliminati",
    "Prullenbak",
    "Verwijderde items",
    "Papperskorgen",
    "Borttagna objekt",
    "Papirkurv",
    "Slettede elementer",
    "Roskakori",
    "Kosz",
    "Elementy usunięte",
    "Koš",
    "Корзина",
    "Удаленные",
    "Удалённые",
    "ゴミ箱",
    "削除済みアイテム",
    "已删除",
    "已删除邮件",
    "垃圾桶",
];

const DRAFTS_NAMES: &[&str] = &[
    "Drafts",
    "[Gmail]/Drafts",
    "Entwürfe",
    "Brouillons",
    "Borradores",
    "Bozze",
    "Concepten",
    "Rascunhos",
    "Черновики",
];
const JUNK_NAMES: &[&str] = &[
    "Junk",
    "Spam",
    "Junk E-mail",
    "Junk Email",
    "Bulk Mail",
    "[Gmail]/Spam",
    "Spamverdacht",
    "Courrier indésirable",
    "Correo no deseado",
    "Posta indesiderata",
    "Ongewenste e-mail",
    "Lixo Eletrônico",
    "Спам",
];

/// The user's own choice of folders, which wins over anything discovered.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RoleOverrides {
    pub sent: Option<String>,
    pub trash: Option<String>,
    /// More folders that hold mail the user sent (e.g. an old "Sent 2023").
    pub extra_sent: Vec<String>,
}

/// How a role was found, to tell the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Found {
    UserChoice,
    SpecialUse,
    WellKnownName,
}

/// The folders that matter to NeverSent, by their command names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderRoles {
    pub sent: Option<(String, Found)>,
    pub trash: Option<(String, Found)>,
    pub drafts: Option<String>,
    pub junk: Option<String>,
    /// Extra folders holding sent mail, from the user's settings.
    pub extra_sent: Vec<String>,
}

impl FolderRoles {
    pub fn discover(folders: &[FolderInfo], overrides: &RoleOverrides) -> FolderRoles {
        let sent = pick(folders, Role::Sent, SENT_NAMES, overrides.sent.as_deref());
        let trash = pick(folders, Role::Trash, TRASH_NAMES, overrides.trash.as_deref());
        FolderRoles {
            sent,
            trash,
            drafts: pick(folders, Role::Drafts, DRAFTS_NAMES, None).map(|(n, _)| n),
            junk: pick(folders, Role::Junk, JUNK_NAMES, None).map(|(n, _)| n),
            extra_sent: overrides.extra_sent.clone(),
        }
    }

    pub fn sent_name(&self) -> Option<&str> {
        self.sent.as_ref().map(|(n, _)| n.as_str())
    }

    pub fn trash_name(&self) -> Option<&str> {
        self.trash.as_ref().map(|(n, _)| n.as_str())
    }
}

fn pick(
    folders: &[FolderInfo],
    role: Role,
    names: &[&str],
    user_choice: Option<&str>,
) -> Option<(String, Found)> {
    if let Some(choice) = user_choice.filter(|c| !c.trim().is_empty()) {
        // The user may type the name as shown (decoded) or as the server spells it.
        let chosen = folders
            .iter()
            .find(|f| f.display_name == choice || f.name == choice)
            .map(|f| f.name.clone())
            .unwrap_or_else(|| super::utf7::encode(choice));
        return Some((chosen, Found::UserChoice));
    }
    if let Some(f) = folders.iter().find(|f| f.selectable && f.special_use == Some(role)) {
        return Some((f.name.clone(), Found::SpecialUse));
    }
    for wanted in names {
        let wanted = wanted.to_lowercase();
        if let Some(f) =
            folders.iter().find(|f| f.selectable && strip_inbox_prefix(f).to_lowercase() == wanted)
        {
            return Some((f.name.clone(), Found::WellKnownName));
        }
    }
    None
}

/// "INBOX.Sent" → "Sent", "INBOX/Gesendet" → "Gesendet"; keeps Gmail's "[Gmail]/…" whole.
fn strip_inbox_prefix(f: &FolderInfo) -> &str {
    let name = f.display_name.as_str();
    let delims: Vec<char> = match &f.delimiter {
        Some(d) => d.chars().collect(),
        None => vec!['.', '/'],
    };
    match (name.get(..5), name.get(5..6), name.get(6..)) {
        (Some(head), Some(sep), Some(rest))
            if head.eq_ignore_ascii_case("INBOX")
                && !rest.is_empty()
                && sep.chars().all(|c| delims.contains(&c)) =>
        {
            rest
        }
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str, delim: &str, special_use: Option<Role>) -> FolderInfo {
        FolderInfo {
            name: super::super::utf7::encode(name),
            display_name: name.to_string(),
            delimiter: Some(delim.to_string()),
            special_use,
            selectable: true,
        }
    }

    #[test]
    fn special_use_beats_names() {
        let folders = vec![
            folder("INBOX", "/", None),
            folder("Sent", "/", None),
            folder("Outbox copies", "/", Some(Role::Sent)),
            folder("Trash", "/", Some(Role::Trash)),
        ];
        let roles = FolderRoles::discover(&folders, &RoleOverrides::default());
        assert_eq!(roles.sent, Some(("Outbox copies".to_string(), Found::SpecialUse)));
        assert_eq!(roles.trash, Some(("Trash".to_string(), Found::SpecialUse)));
    }

    #[test]
    fn localized_names_with_prefix_and_encoding() {
        let folders = vec![
            folder("INBOX", ".", None),
            folder("INBOX.Envoyés", ".", None),
            folder("INBOX.Corbeille", ".", None),
        ];
        let roles = FolderRoles::discover(&folders, &RoleOverrides::default());
        assert_eq!(roles.sent, Some(("INBOX.Envoy&AOk-s".to_string(), Found::WellKnownName)));
        assert_eq!(roles.trash_name(), Some("INBOX.Corbeille"));
    }

    #[test]
    fn non_ascii_names_near_the_prefix_do_not_panic() {
        let folders = vec![
            folder("Entwürfe", "/", None),
            folder("INBOXé", "/", None),
            folder("É", "/", None),
        ];
        let roles = FolderRoles::discover(&folders, &RoleOverrides::default());
        assert_eq!(roles.drafts.as_deref(), Some("Entw&APw-rfe"));
    }

    #[test]
    fn user_choice_wins() {
        let folders = vec![folder("Sent", "/", Some(Role::Sent)), folder("Sent 2023", "/", None)];
        let overrides = RoleOverrides { sent: Some("Sent 2023".into()), ..Default::default() };
        let roles = FolderRoles::discover(&folders, &overrides);
        assert_eq!(roles.sent, Some(("Sent 2023".to_string(), Found::UserChoice)));
    }

    #[test]
    fn nothing_matches_means_none() {
        let folders = vec![folder("INBOX", "/", None), folder("Projects", "/", None)];
        let roles = FolderRoles::discover(&folders, &RoleOverrides::default());
        assert_eq!(roles.sent, None);
        assert_eq!(roles.trash, None);
    }
}
