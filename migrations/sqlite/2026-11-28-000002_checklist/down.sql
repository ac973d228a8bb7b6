DROP TABLE checklist_item_versions;
DROP TABLE checklist_items;
