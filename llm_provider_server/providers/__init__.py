"""Provider adapters: the mock judge, OpenAI and Anthropic, behind one interface."""
