DROP TRIGGER purchases_log_refund ON purchases;
DROP FUNCTION purchases_log_refund();
DROP TABLE purchase_refunds;

DROP TRIGGER ledger_entries_allocate_spend ON ledger_entries;
DROP FUNCTION ledger_entries_allocate_spend();
DROP TABLE grant_spends;
DROP TABLE credit_grants;
DROP FUNCTION credit_grants_guard();
DROP FUNCTION append_only();

-- Expiry entries cannot be kept under the old kinds: going down past this
-- migration with expiries recorded fails here, as it should.
ALTER TABLE ledger_entries
    DROP CONSTRAINT ledger_entries_kind_check,
    ADD CONSTRAINT ledger_entries_kind_check
        CHECK (kind IN ('purchase', 'spend', 'refund', 'grant', 'adjustment')),
    DROP CONSTRAINT ledger_entries_check,
    ADD CONSTRAINT ledger_entries_check
        CHECK (CASE kind
                   WHEN 'purchase' THEN amount > 0
                   WHEN 'grant' THEN amount > 0
                   WHEN 'spend' THEN amount < 0
                   WHEN 'refund' THEN amount < 0
                   ELSE true
               END);
