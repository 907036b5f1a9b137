"""Operations: scheduled and protective work (cleanup, re-stamping reporter rows,
staff notifications, throttles)."""
