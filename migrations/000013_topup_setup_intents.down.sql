DROP TABLE topup_setup_intents;
