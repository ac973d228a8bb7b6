-- Honours that belong to a person (a university place, enlistment): a claim for such an
-- item must name the household member who earned it.
ALTER TABLE checklist_item_versions ADD COLUMN member_required BOOLEAN NOT NULL DEFAULT 0;
