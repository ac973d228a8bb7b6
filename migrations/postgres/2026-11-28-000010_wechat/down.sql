DROP TABLE wechat_codes;
DROP TABLE wechat_bindings;
