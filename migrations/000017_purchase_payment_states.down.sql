DROP TABLE purchase_payment_states;
