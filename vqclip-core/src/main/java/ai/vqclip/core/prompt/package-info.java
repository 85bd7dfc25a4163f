/**
 * Prompts with weights and stops, and schedules of prompt sets (story mode), in generate.py's
 * syntax.
 */
package ai.vqclip.core.prompt;
