/** What a page of the course is: a route, a title, and how it draws itself and runs its lesson. */
export interface Page {
  readonly id: string;
  readonly title: string;
  /** One line for the index: what the lab teaches. */
  readonly teaches: string;
  render(root: HTMLElement, device: string): Promise<void>;
}
