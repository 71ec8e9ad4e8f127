/**
 * The promotion gate (pure): a challenger is promoted only if its holdout AUC reaches the absolute
 * floor and is not worse than the current champion's AUC on the same holdout rows.
 */
export interface GateInput {
  challenger: { version: string; auc: number };
  /** The champion scored on the challenger's holdout; null when there is no champion. */
  champion: { version: string; auc: number } | null;
  aucFloor: number;
}

export interface GateDecision {
  promote: boolean;
  /** Every check, passed or not, in words: the record of why. */
  reasons: string[];
}

const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v));

export function decidePromotion(input: GateInput): GateDecision {
  const { challenger, champion, aucFloor } = input;
  const reasons: string[] = [];
  let promote = true;
  if (champion !== null && champion.version === challenger.version) {
    return { promote: false, reasons: [`${challenger.version} is already the champion`] };
  }
  if (Number.isFinite(challenger.auc) && challenger.auc >= aucFloor) {
    reasons.push(`challenger AUC ${f3(challenger.auc)} >= floor ${f3(aucFloor)}`);
  } else {
    promote = false;
    reasons.push(`challenger AUC ${f3(challenger.auc)} below floor ${f3(aucFloor)}`);
  }
  if (champion === null) {
    reasons.push('no champion yet');
  } else if (challenger.auc >= champion.auc) {
    reasons.push(
      `challenger AUC ${f3(challenger.auc)} >= champion ${champion.version} AUC ${f3(champion.auc)} on the same holdout`,
    );
  } else {
    promote = false;
    reasons.push(
      `challenger AUC ${f3(challenger.auc)} worse than champion ${champion.version} AUC ${f3(champion.auc)} on the same holdout`,
    );
  }
  return { promote, reasons };
}
