package io.rabbitkit.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class WarnBudgetTest {

  @Test
  void aFloodIsCutToTheLimitAndTheRestCountedUntilReported() {
    WarnBudget budget = new WarnBudget();
    for (int i = 0; i < WarnBudget.LIMIT; i++) {
      assertEquals(0, budget.admit(), "warning " + i + " is let through, nothing dropped before it");
    }
    for (int i = 0; i < 500; i++) {
      assertEquals(-1, budget.admit());
    }
    assertEquals(500, budget.takeSuppressed());
    assertEquals(0, budget.takeSuppressed(), "reported once");
    assertEquals(-1, budget.admit(), "still the same window");
  }
}
