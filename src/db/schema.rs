// Written by hand to match migrations/ (diesel print-schema would emit backend-specific
// types; these are the ones MultiConnection supports on both SQLite and PostgreSQL).

diesel::table! {
    children (id) {
        id -> Text,
        local_id -> Text,
        responsible_la -> Text,
        given_name -> Text,
        family_name -> Text,
        date_of_birth -> Date,
        sex -> Text,
        nhs_number -> Nullable<Text>,
        uasc -> Integer,
        gp_practice -> Nullable<Text>,
        social_worker_email -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        social_worker_id -> Nullable<Text>,
        sealed_on -> Nullable<Date>,
    }
}

diesel::table! {
    periods (id) {
        id -> Text,
        child_id -> Text,
        started_on -> Date,
        legal_status -> Text,
        category_of_need -> Nullable<Text>,
        ended_on -> Nullable<Date>,
        end_reason -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    placements (id) {
        id -> Text,
        period_id -> Text,
        started_on -> Date,
        placement_type -> Text,
        out_of_area -> Integer,
        host_la -> Nullable<Text>,
        host_provider_email -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    assessments (id) {
        id -> Text,
        child_id -> Text,
        period_id -> Nullable<Text>,
        kind -> Text,
        state -> Text,
        clock_started_on -> Date,
        due_on -> Date,
        notified_on -> Nullable<Date>,
        consent_on -> Nullable<Date>,
        first_booked_on -> Nullable<Date>,
        appointment_on -> Nullable<Date>,
        seen_on -> Nullable<Date>,
        report_received_on -> Nullable<Date>,
        completed_on -> Nullable<Date>,
        completion_method -> Nullable<Text>,
        ended_on -> Nullable<Date>,
        end_reason -> Nullable<Text>,
        non_attendance_count -> Integer,
        last_non_attendance_on -> Nullable<Date>,
        last_non_attendance_outcome -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        rag -> Text,
        rag_basis -> Text,
        rag_from -> Nullable<Date>,
        rag_until -> Nullable<Date>,
        responsible_la -> Text,
        history_through -> Nullable<Date>,
        open_request -> Bool,
    }
}

diesel::table! {
    assessment_events (id) {
        id -> Text,
        assessment_id -> Text,
        step -> Text,
        from_state -> Text,
        to_state -> Text,
        occurred_on -> Date,
        detail -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    consents (id) {
        id -> Text,
        assessment_id -> Text,
        basis -> Text,
        given_by -> Text,
        given_on -> Nullable<Date>,
        refused_on -> Nullable<Date>,
        scope -> Text,
        confirmed_by -> Nullable<Text>,
        competence_assessed_by -> Nullable<Text>,
        reoffer_plan -> Nullable<Text>,
        withdrawn_on -> Nullable<Date>,
        created_at -> Timestamp,
        given_by_birth_mother -> Integer,
    }
}

diesel::table! {
    appointments (id) {
        id -> Text,
        assessment_id -> Text,
        starts_at -> Timestamp,
        clinician -> Text,
        location -> Text,
        booked_on -> Date,
        outcome -> Nullable<Text>,
        outcome_recorded_on -> Nullable<Date>,
        version -> Integer,
        created_at -> Timestamp,
        responsible_la -> Text,
    }
}

diesel::table! {
    out_of_area_requests (id) {
        id -> Text,
        assessment_id -> Text,
        placement_id -> Text,
        host_la -> Nullable<Text>,
        host_provider_email -> Nullable<Text>,
        opened_on -> Date,
        requested_on -> Nullable<Date>,
        acknowledged_on -> Nullable<Date>,
        appointment_offered_on -> Nullable<Date>,
        report_received_on -> Nullable<Date>,
        closed_on -> Nullable<Date>,
        version -> Integer,
        created_at -> Timestamp,
        host_icb_email -> Nullable<Text>,
    }
}

diesel::table! {
    notes (id) {
        id -> Text,
        child_id -> Text,
        assessment_id -> Nullable<Text>,
        body -> Text,
        author -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    health_checks (id) {
        id -> Text,
        child_id -> Text,
        kind -> Text,
        checked_on -> Date,
        up_to_date -> Nullable<Integer>,
        sdq_score -> Nullable<Integer>,
        sdq_reason -> Nullable<Text>,
        outcome -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    bank_holidays (holiday_date) {
        holiday_date -> Date,
        title -> Text,
        notes -> Text,
        bunting -> Integer,
        imported_at -> Timestamp,
    }
}

diesel::table! {
    organisations (id) {
        id -> Text,
        kind -> Text,
        name -> Text,
        code -> Text,
        icb_id -> Nullable<Text>,
        created_at -> Timestamp,
        team_manager_email -> Nullable<Text>,
        host_icb_nurse_email -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        organisation_id -> Text,
        email -> Text,
        display_name -> Text,
        password_hash -> Nullable<Text>,
        active -> Integer,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        last_login_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    user_roles (user_id, role) {
        user_id -> Text,
        role -> Text,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        user_id -> Text,
        csrf_token -> Text,
        client_address -> Nullable<Text>,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        user_id -> Text,
        token_hash -> Text,
        label -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Text,
        client_address -> Text,
        occurred_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        occurred_at -> Timestamp,
        user_id -> Nullable<Text>,
        user_email -> Nullable<Text>,
        role -> Nullable<Text>,
        client_address -> Nullable<Text>,
        action -> Text,
        entity -> Text,
        entity_id -> Nullable<Text>,
        child_id -> Nullable<Text>,
        outcome -> Text,
        changes -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    escalations (id) {
        id -> Text,
        assessment_id -> Text,
        child_id -> Text,
        rule_id -> Text,
        condition -> Text,
        level -> Integer,
        occurrence_key -> Text,
        since -> Date,
        fired_on -> Date,
        resolved_on -> Nullable<Date>,
        created_at -> Timestamp,
        responsible_la -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        escalation_id -> Nullable<Text>,
        kind -> Text,
        dedupe_key -> Nullable<Text>,
        recipient -> Text,
        to_address -> Nullable<Text>,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        attachment_name -> Nullable<Text>,
        attachment -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claim_token -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        message_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    assurance_meetings (id) {
        id -> Text,
        held_on -> Date,
        chair -> Text,
        attendees -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    meeting_actions (id) {
        id -> Text,
        meeting_id -> Text,
        assessment_id -> Text,
        child_id -> Text,
        what -> Text,
        owner_name -> Text,
        owner_email -> Text,
        due_on -> Date,
        status -> Text,
        closed_on -> Nullable<Date>,
        closed_comment -> Nullable<Text>,
        closed_by -> Nullable<Text>,
        version -> Integer,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    meeting_notes (id) {
        id -> Text,
        meeting_id -> Text,
        assessment_id -> Text,
        child_id -> Text,
        kind -> Text,
        body -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(periods -> children (child_id));
diesel::joinable!(placements -> periods (period_id));
diesel::joinable!(assessments -> children (child_id));
diesel::joinable!(assessment_events -> assessments (assessment_id));
diesel::joinable!(consents -> assessments (assessment_id));
diesel::joinable!(appointments -> assessments (assessment_id));
diesel::joinable!(out_of_area_requests -> assessments (assessment_id));
diesel::joinable!(notes -> children (child_id));
diesel::joinable!(health_checks -> children (child_id));
diesel::joinable!(escalations -> assessments (assessment_id));
diesel::joinable!(outbox -> escalations (escalation_id));

diesel::table! {
    history_events (id) {
        id -> Text,
        assessment_id -> Text,
        seq -> Integer,
        kind -> Text,
        effective_on -> Date,
        recorded_at -> Timestamp,
        recorded_by -> Nullable<Text>,
        supersedes -> Nullable<Text>,
        subject_id -> Nullable<Text>,
        for_on -> Nullable<Date>,
        code -> Nullable<Text>,
        detail -> Nullable<Text>,
    }
}

diesel::joinable!(history_events -> assessments (assessment_id));

diesel::table! {
    legal_status_changes (id) {
        id -> Text,
        period_id -> Text,
        changed_on -> Date,
        legal_status -> Text,
        previous_status -> Text,
        recorded_at -> Timestamp,
        recorded_by -> Nullable<Text>,
    }
}

diesel::joinable!(legal_status_changes -> periods (period_id));

diesel::table! {
    health_obligations (id) {
        id -> Text,
        child_id -> Text,
        period_id -> Text,
        kind -> Text,
        opened_on -> Date,
        due_on -> Nullable<Date>,
        completed_on -> Nullable<Date>,
        completed_by -> Nullable<Text>,
        recorded_at -> Timestamp,
        recorded_by -> Nullable<Text>,
    }
}

diesel::joinable!(health_obligations -> children (child_id));

diesel::allow_tables_to_appear_in_same_query!(
    history_events,
    health_obligations,
    legal_status_changes,
    children,
    periods,
    placements,
    assessments,
    assessment_events,
    consents,
    appointments,
    out_of_area_requests,
    notes,
    health_checks,
    bank_holidays,
    organisations,
    users,
    user_roles,
    sessions,
    api_tokens,
    login_failures,
    audit_log,
    escalations,
    outbox,
    assurance_meetings,
    meeting_actions,
    meeting_notes,
);
diesel::joinable!(meeting_actions -> assurance_meetings (meeting_id));
diesel::joinable!(meeting_actions -> children (child_id));
diesel::joinable!(meeting_notes -> assurance_meetings (meeting_id));
diesel::joinable!(meeting_notes -> children (child_id));

diesel::table! {
    forecast_stamps (assessment_id) {
        assessment_id -> Text,
        version -> Integer,
        p_late -> Nullable<Double>,
        p_late_on -> Date,
        p_late_model -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(forecast_stamps, assessments);

diesel::table! {
    rag_snapshots (assessment_id, on_day) {
        assessment_id -> Text,
        on_day -> Date,
        version -> Integer,
        basis -> Text,
        state -> Text,
        rag -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(rag_snapshots, assessments);

diesel::table! {
    forecast_models (id) {
        id -> Text,
        fitted_on -> Date,
        window_from -> Date,
        observations -> Integer,
        params -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ssda903_children (child_id) {
        child_id -> Text,
        ethnicity -> Nullable<Text>,
        upn -> Nullable<Text>,
        mother -> Nullable<Integer>,
        mother_child_dob -> Nullable<Date>,
        uasc_ceased_on -> Nullable<Date>,
        oc2_imported -> Integer,
        convicted -> Nullable<Integer>,
        substance_misuse -> Nullable<Integer>,
        intervention_received -> Nullable<Integer>,
        intervention_offered -> Nullable<Integer>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    ssda903_episodes (child_id, decom) {
        child_id -> Text,
        decom -> Date,
        rne -> Text,
        legal_status -> Text,
        category_of_need -> Text,
        placement_type -> Text,
        provider -> Nullable<Text>,
        dec -> Nullable<Date>,
        rec -> Nullable<Text>,
        reason_place_change -> Nullable<Text>,
        home_postcode -> Nullable<Text>,
        placement_postcode -> Nullable<Text>,
        urn -> Nullable<Text>,
    }
}

diesel::joinable!(ssda903_children -> children (child_id));
diesel::joinable!(ssda903_episodes -> children (child_id));
diesel::allow_tables_to_appear_in_same_query!(ssda903_children, ssda903_episodes, children);

diesel::table! {
    kpi_publications (id) {
        id -> Text,
        month -> Text,
        scope -> Text,
        provisional -> Integer,
        published_by -> Nullable<Text>,
        published_at -> Timestamp,
    }
}

diesel::table! {
    kpi_published_figures (publication_id, measure) {
        publication_id -> Text,
        measure -> Text,
        numerator -> Integer,
        denominator -> Integer,
        provisional -> Integer,
    }
}

diesel::table! {
    kpi_published_entries (publication_id, measure, position) {
        publication_id -> Text,
        measure -> Text,
        position -> Integer,
        child_id -> Text,
        local_id -> Text,
        local_authority -> Text,
        assessment_id -> Nullable<Text>,
        due_on -> Nullable<Date>,
        done_on -> Nullable<Date>,
        outcome -> Text,
        reason -> Nullable<Text>,
        attribution -> Nullable<Text>,
        out_of_area -> Integer,
        beside -> Integer,
    }
}

diesel::joinable!(kpi_published_figures -> kpi_publications (publication_id));
diesel::joinable!(kpi_published_entries -> kpi_publications (publication_id));
diesel::allow_tables_to_appear_in_same_query!(kpi_publications, kpi_published_figures, kpi_published_entries);
