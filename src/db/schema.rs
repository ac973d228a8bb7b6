//! The schema both backends share. Written by hand to match `migrations/*`; the
//! `schema_agrees_with_migrations` test selects every column of every table.

diesel::table! {
    townships (id) {
        id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    villages (id) {
        id -> BigInt,
        township_id -> BigInt,
        code -> Text,
        name -> Text,
        policy -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    village_groups (id) {
        id -> BigInt,
        village_id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    households (id) {
        id -> BigInt,
        village_id -> BigInt,
        group_id -> Nullable<BigInt>,
        door_no -> Text,
        head_name -> Text,
        phone -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        active -> Bool,
    }
}

diesel::table! {
    members (id) {
        id -> BigInt,
        village_id -> BigInt,
        household_id -> BigInt,
        name -> Text,
        relation -> Text,
        created_at -> Timestamp,
        active -> Bool,
        phone -> Nullable<Text>,
        signed_out_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    shops (id) {
        id -> BigInt,
        township_id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    shop_villages (shop_id, village_id) {
        shop_id -> BigInt,
        village_id -> BigInt,
    }
}

diesel::table! {
    staff (id) {
        id -> BigInt,
        township_id -> BigInt,
        username -> Text,
        password_hash -> Text,
        name -> Text,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    role_bindings (id) {
        id -> BigInt,
        staff_id -> BigInt,
        role -> Text,
        scope_id -> BigInt,
        village_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        token_hash -> Text,
        family -> Text,
        staff_id -> Nullable<BigInt>,
        member_id -> Nullable<BigInt>,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    invite_codes (id) {
        id -> BigInt,
        village_id -> BigInt,
        household_id -> BigInt,
        member_id -> BigInt,
        code_hash -> Text,
        created_by -> BigInt,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(villages -> townships (township_id));
diesel::joinable!(village_groups -> villages (village_id));
diesel::joinable!(households -> villages (village_id));
diesel::joinable!(members -> households (household_id));
diesel::joinable!(role_bindings -> staff (staff_id));

diesel::allow_tables_to_appear_in_same_query!(
    townships,
    villages,
    village_groups,
    households,
    members,
    shops,
    shop_villages,
    staff,
    role_bindings,
    refresh_tokens,
    invite_codes,
);

diesel::table! {
    checklist_items (id) {
        id -> BigInt,
        village_id -> BigInt,
        code -> Text,
        current_version -> Integer,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    checklist_item_versions (id) {
        id -> BigInt,
        village_id -> BigInt,
        item_id -> BigInt,
        version -> Integer,
        code -> Text,
        category -> Text,
        title -> Text,
        description -> Text,
        points -> BigInt,
        period -> Text,
        cap_count -> Nullable<Integer>,
        proposers -> Text,
        evidence_required -> Bool,
        created_by -> BigInt,
        created_at -> Timestamp,
        member_required -> Bool,
    }
}

diesel::joinable!(checklist_item_versions -> checklist_items (item_id));
diesel::allow_tables_to_appear_in_same_query!(checklist_items, checklist_item_versions);

diesel::table! {
    accounts (id) {
        id -> BigInt,
        village_id -> BigInt,
        owner_kind -> Text,
        owner_id -> BigInt,
        asset -> Text,
        purpose -> Text,
        balance -> BigInt,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    chain_heads (village_id) {
        village_id -> BigInt,
        seq -> BigInt,
        hash -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    ledger_transactions (id) {
        id -> BigInt,
        village_id -> BigInt,
        seq -> BigInt,
        kind -> Text,
        memo -> Text,
        reverses_id -> Nullable<BigInt>,
        actor_kind -> Text,
        actor_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        prev_hash -> Text,
        hash -> Text,
        chain_version -> Integer,
    }
}

diesel::table! {
    postings (id) {
        id -> BigInt,
        village_id -> BigInt,
        transaction_id -> BigInt,
        account_id -> BigInt,
        asset -> Text,
        amount -> BigInt,
        balance_after -> BigInt,
    }
}

diesel::table! {
    idempotency_records (id) {
        id -> BigInt,
        scope -> Text,
        idem_key -> Text,
        request_hash -> Text,
        status -> Integer,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        village_id -> Nullable<BigInt>,
        actor_kind -> Text,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        subject_kind -> Text,
        subject_id -> Nullable<BigInt>,
        detail -> Text,
        addr -> Text,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(accounts, postings, ledger_transactions);

diesel::table! {
    claims (id) {
        id -> BigInt,
        village_id -> BigInt,
        household_id -> BigInt,
        member_id -> Nullable<BigInt>,
        item_id -> BigInt,
        item_version -> Integer,
        points -> BigInt,
        quantity -> Integer,
        total -> BigInt,
        status -> Text,
        occurred_on -> Date,
        note -> Text,
        notice_ends_at -> Nullable<Timestamp>,
        transaction_id -> Nullable<BigInt>,
        created_by_kind -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    claim_events (id) {
        id -> BigInt,
        village_id -> BigInt,
        claim_id -> BigInt,
        status -> Text,
        note -> Text,
        actor_kind -> Text,
        actor_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    objections (id) {
        id -> BigInt,
        village_id -> BigInt,
        claim_id -> BigInt,
        member_id -> BigInt,
        reason -> Text,
        status -> Text,
        decided_by -> Nullable<BigInt>,
        decision_note -> Nullable<Text>,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    claim_evidence (id) {
        id -> BigInt,
        village_id -> BigInt,
        claim_id -> BigInt,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        data -> Binary,
        uploaded_by_kind -> Text,
        uploaded_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    claims,
    households,
    checklist_item_versions,
    ledger_transactions,
    objections
);

diesel::table! {
    goods (id) {
        id -> BigInt,
        shop_id -> BigInt,
        name -> Text,
        unit -> Text,
        points_price -> BigInt,
        cost_yuan -> BigInt,
        stock -> BigInt,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        barcode -> Nullable<Text>,
    }
}

diesel::table! {
    payment_codes (id) {
        id -> BigInt,
        village_id -> BigInt,
        household_id -> BigInt,
        member_id -> BigInt,
        code_hash -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        used_at -> Nullable<Timestamp>,
        redemption_id -> Nullable<BigInt>,
        reserved_shop_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    receipt_counters (shop_id, day) {
        shop_id -> BigInt,
        day -> Date,
        last_seq -> Integer,
    }
}

diesel::table! {
    redemptions (id) {
        id -> BigInt,
        shop_id -> BigInt,
        village_id -> BigInt,
        household_id -> BigInt,
        receipt_no -> Text,
        total_points -> BigInt,
        points_after -> BigInt,
        transaction_id -> BigInt,
        method -> Text,
        payment_code_id -> Nullable<BigInt>,
        proxy_name -> Nullable<Text>,
        keeper_id -> BigInt,
        created_at -> Timestamp,
        card_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    redemption_lines (id) {
        id -> BigInt,
        redemption_id -> BigInt,
        goods_id -> BigInt,
        name -> Text,
        unit -> Text,
        quantity -> Integer,
        points_price -> BigInt,
        cost_yuan -> BigInt,
    }
}

diesel::table! {
    redemption_voids (id) {
        id -> BigInt,
        redemption_id -> BigInt,
        transaction_id -> BigInt,
        reason -> Text,
        actor_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    stock_movements (id) {
        id -> BigInt,
        shop_id -> BigInt,
        goods_id -> BigInt,
        kind -> Text,
        delta -> BigInt,
        stock_after -> BigInt,
        reason -> Text,
        redemption_id -> Nullable<BigInt>,
        actor_kind -> Text,
        actor_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    settlements (id) {
        id -> BigInt,
        shop_id -> BigInt,
        period_start -> Date,
        period_end -> Date,
        status -> Text,
        redemptions -> Integer,
        points -> BigInt,
        yuan -> BigInt,
        created_by -> BigInt,
        created_at -> Timestamp,
        approved_by -> Nullable<BigInt>,
        approved_at -> Nullable<Timestamp>,
        paid_by -> Nullable<BigInt>,
        paid_at -> Nullable<Timestamp>,
        paid_on -> Nullable<Date>,
        reference -> Nullable<Text>,
    }
}

diesel::table! {
    settlement_lines (id) {
        id -> BigInt,
        settlement_id -> BigInt,
        redemption_id -> BigInt,
        village_id -> BigInt,
        points -> BigInt,
        yuan -> BigInt,
        void_id -> Nullable<BigInt>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    redemptions,
    redemption_lines,
    redemption_voids,
    settlement_lines,
    settlements
);

diesel::table! {
    household_cards (id) {
        id -> BigInt,
        village_id -> BigInt,
        household_id -> BigInt,
        serial -> Text,
        token_hash -> Text,
        pin_hash -> Text,
        failures -> Integer,
        failure_day -> Nullable<Date>,
        day_failures -> Integer,
        locked_until -> Nullable<Timestamp>,
        held -> Bool,
        created_by -> BigInt,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    web_sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        member_id -> Nullable<BigInt>,
        staff_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    wechat_bindings (id) {
        id -> BigInt,
        openid -> Text,
        member_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    wechat_codes (code_hash) {
        code_hash -> Text,
        openid -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    readiness (id) {
        id -> BigInt,
        checked_at -> Timestamp,
    }
}

diesel::table! {
    sign_in_counters (key) {
        key -> Text,
        window_start -> Timestamp,
        count -> Integer,
    }
}

diesel::table! {
    expiry_runs (year, village_id) {
        village_id -> BigInt,
        year -> Integer,
        ran_at -> Timestamp,
        households -> BigInt,
        points -> BigInt,
    }
}

diesel::table! {
    door_plates (household_id) {
        household_id -> BigInt,
        village_id -> BigInt,
        token -> Text,
        issued_at -> Timestamp,
        issued_by -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(door_plates, households);

diesel::table! {
    settlement_villages (settlement_id, village_id) {
        settlement_id -> BigInt,
        village_id -> BigInt,
        seq -> BigInt,
        hash -> Text,
        funding -> Text,
    }
}

diesel::table! {
    household_statements (id) {
        id -> BigInt,
        village_id -> BigInt,
        household_id -> BigInt,
        document -> Text,
        signature -> Text,
        key_id -> Text,
        check_token_hash -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    settlement_bases (settlement_id, village_id) {
        settlement_id -> BigInt,
        village_id -> BigInt,
        settle_at -> Text,
        yuan_per_point -> BigInt,
    }
}

// The dashboard adds up households' postings per household and kind of transaction.
diesel::allow_columns_to_appear_in_same_group_by_clause!(
    accounts::village_id,
    accounts::owner_id,
    ledger_transactions::kind,
);

diesel::table! {
    events (id) {
        id -> BigInt,
        village_id -> BigInt,
        item_id -> BigInt,
        title -> Text,
        place -> Nullable<Text>,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        max_checkins -> Nullable<Integer>,
        status -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    event_checkins (id) {
        id -> BigInt,
        event_id -> BigInt,
        household_id -> BigInt,
        member_id -> Nullable<BigInt>,
        at -> Timestamp,
        claim_id -> Nullable<BigInt>,
    }
}
