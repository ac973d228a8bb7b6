//! Who did what, when, from where (操作记录): for the committee and the supervisors.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::{Nav, render, when};
use crate::audit::AuditView;
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
    const VERBS: [(&str, &str); 24] = [
        ("member_wechat_unbind", "解除微信绑定并退出登录"),
        ("member_sign_out", "退出所有登录"),
        ("objection_decide", "处理异议"),
        ("objection_raise", "提出异议"),
        ("evidence_add", "上传证据照片"),
        ("invite_issue", "发邀请码"),
        ("card_issue", "办积分卡"),
        ("member_add", "添加成员"),
        ("approve", "审核通过"),
        ("reject", "审核不通过"),
        ("submit", "申报"),
        ("award", "奖励加分"),
        ("deduction", "扣分"),
        ("import", "导入"),
        ("unlock", "解锁积分卡"),
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
        "village" => "村",
        "group" => "小组",
        "household" => "农户",
        "member" => "成员",
        "staff" => "工作人员",
        "redemption" => "兑换",
        "settlement" => "结算单",
        "card" => "积分卡",
        "transaction" => "账目",
        _ => "记录",
    }
}

fn line(e: AuditView) -> AuditLine {
    AuditLine {
        at: when(e.created_at),
        who: match (e.actor_kind.as_str(), e.actor_id) {
            ("staff", Some(id)) => format!("工作人员 #{id}"),
            ("member", Some(id)) => format!("村民 #{id}"),
            _ => "系统".into(),
        },
        what: format!("{}（{}）", action_words(&e.action), e.action),
        subject: match e.subject_id {
            Some(id) => format!("{} #{id}", subject_words(&e.subject_kind)),
            None => subject_words(&e.subject_kind).to_owned(),
        },
        addr: e.addr,
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
            Ok(crate::books::audit_events(conn, p, village_id, &latest)?.items)
        },
        |chrome, nav, events| AuditPage {
            chrome,
            nav,
            lines: events.into_iter().map(line).collect(),
        },
    )
    .await
}
