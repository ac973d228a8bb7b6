//! Who did what, when, from where (操作记录): for the committee and the supervisors.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::{Nav, render, when};
use crate::audit::AuditView;
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::paging::PageQuery;
use crate::state::AppState;
use crate::web::page::Chrome;

pub struct AuditLine {
    at: String,
    who: String,
    what: String,
    subject: String,
    addr: String,
}

/// The action in words; names are `<thing>_<verb>` or a verb, the most specific listed first.
fn action_words(action: &str) -> &'static str {
    const VERBS: [(&str, &str); 25] = [
        ("event_close", "结束活动，签到的农户记为申报"),
        ("member_wechat_unbind", "解除微信绑定并退出登录"),
        ("member_sign_out", "退出所有登录"),
        ("objection_decide", "处理异议"),
        ("objection_raise", "提出异议"),
        ("evidence_add", "上传证据照片"),
        ("invite_issue", "发邀请码"),
        ("card_issue", "办户卡"),
        ("member_add", "添加成员"),
        ("approve", "审核通过"),
        ("reject", "审核不通过"),
        ("submit", "申报"),
        ("award", "奖励加分"),
        ("deduction", "扣分"),
        ("import", "导入"),
        ("unlock", "解锁户卡"),
        ("redeem", "兑换"),
        ("void", "撤销兑换"),
        ("reverse", "冲正"),
        ("pay", "结算付款"),
        ("retire", "停用"),
        ("revise", "修改"),
        ("update", "修改"),
        ("create", "新建"),
        ("post", "入账"),
    ];
    VERBS
        .iter()
        .find(|(verb, _)| action.contains(verb))
        .map_or("其他操作", |(_, words)| words)
}

fn subject_words(kind: &str) -> &'static str {
    match kind {
        "claim" => "申报",
        "checklist_item" => "清单事项",
        "event" => "活动",
        "village" => "村",
        "group" => "小组",
        "household" => "农户",
        "member" => "成员",
        "staff" => "工作人员",
        "redemption" => "兑换",
        "settlement" => "结算单",
        "card" => "户卡",
        "transaction" => "账目",
        _ => "记录",
    }
}

/// Names for the ids in the trail: people by name, households by door number and head,
/// items by title. A row since gone reads as its kind alone.
struct Names<'c> {
    conn: &'c mut DbConnection,
    p: &'c Principal,
}

impl Names<'_> {
    fn who(&mut self, kind: &str, id: Option<i64>) -> AppResult<String> {
        Ok(match (kind, id) {
            ("staff", Some(id)) => {
                crate::org::service::staff_name(self.conn, id)?.unwrap_or_else(|| "工作人员".into())
            }
            ("member", Some(id)) => crate::org::service::member_name(self.conn, id)?
                .map_or_else(|| "村民".into(), |name| format!("村民 {name}")),
            _ => "系统".into(),
        })
    }

    fn subject(&mut self, kind: &str, id: Option<i64>) -> AppResult<String> {
        let words = subject_words(kind);
        let Some(id) = id else {
            return Ok(words.to_owned());
        };
        let named = match kind {
            "household" => self.household(id)?,
            "checklist_item" => crate::checklist::service::item_in_village(self.conn, id)
                .ok()
                .map(|(_, item)| format!("「{}」", item.title)),
            "claim" => match crate::claims::service::get(self.conn, self.p, id) {
                Ok(claim) => {
                    let item = crate::checklist::service::item_in_village(self.conn, claim.item_id)
                        .map(|(_, item)| item.title)
                        .unwrap_or_default();
                    let household = self.household(claim.household_id)?.unwrap_or_default();
                    Some(format!("{household}「{item}」"))
                }
                Err(_) => None,
            },
            "village" => crate::org::service::village_summary(self.conn, id)
                .ok()
                .map(|(_, name)| name),
            "member" => crate::org::service::member_name(self.conn, id)?,
            "staff" => crate::org::service::staff_name(self.conn, id)?,
            _ => None,
        };
        Ok(named.map_or_else(|| words.to_owned(), |name| format!("{words} {name}")))
    }

    fn household(&mut self, id: i64) -> AppResult<Option<String>> {
        Ok(crate::org::service::household_label(self.conn, self.p, id)
            .ok()
            .map(|(door_no, name)| format!("{door_no} {name}")))
    }

    fn line(&mut self, e: AuditView) -> AppResult<AuditLine> {
        Ok(AuditLine {
            at: when(e.created_at),
            who: self.who(&e.actor_kind, e.actor_id)?,
            what: action_words(&e.action).to_owned(),
            subject: self.subject(&e.subject_kind, e.subject_id)?,
            addr: e.addr,
        })
    }
}

#[derive(Template)]
#[template(path = "desk/audit.html", config = "src/web/askama.toml")]
struct AuditPage {
    chrome: Chrome,
    nav: Nav,
    lines: Vec<AuditLine>,
}

#[get("/admin/audit")]
async fn page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    render(
        &req,
        &state,
        "audit",
        |conn, p, village_id| {
            let latest = PageQuery {
                limit: Some(200),
                cursor: None,
            };
            let events = crate::books::audit_events(conn, p, village_id, &latest)?.items;
            let mut names = Names { conn, p };
            events.into_iter().map(|e| names.line(e)).collect()
        },
        |chrome, nav, lines| AuditPage { chrome, nav, lines },
    )
    .await
}
