"""Business rules, once: the bot, the API, the CLI and the scheduler all call these."""
