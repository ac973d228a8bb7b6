ALTER TABLE checklist_item_versions DROP COLUMN member_required;
