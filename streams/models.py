# Models arrive with their issue; the app is installed so every shop schema already has it.
